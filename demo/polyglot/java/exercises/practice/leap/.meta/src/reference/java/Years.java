final class Years {

    private Years() {
    }

    static boolean divisible(int year, int by) {
        return year % by == 0;
    }

}
