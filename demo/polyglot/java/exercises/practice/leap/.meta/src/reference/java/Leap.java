class Leap {

    boolean isLeapYear(int year) {
        return Years.divisible(year, 4) && (!Years.divisible(year, 100) || Years.divisible(year, 400));
    }

}
