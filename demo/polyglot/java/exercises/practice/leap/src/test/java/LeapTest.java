import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

public class LeapTest {

    private final Leap leap = new Leap();

    @Test
    public void yearNotDivisibleBy4() {
        assertThat(leap.isLeapYear(2015)).isFalse();
    }

    @Disabled("Remove to run test")
    @Test
    public void yearDivisibleBy400() {
        assertThat(leap.isLeapYear(2000)).isTrue();
    }

    @Disabled("Remove to run test")
    @Test
    public void yearDivisibleBy100NotBy400() {
        assertThat(leap.isLeapYear(2100)).isFalse();
    }

}
