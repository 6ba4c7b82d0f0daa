package leap

import "testing"

func TestLeapYears(t *testing.T) {
	for _, c := range []struct {
		year int
		want bool
	}{{2015, false}, {1996, true}, {2100, false}, {2000, true}} {
		if got := IsLeapYear(c.year); got != c.want {
			t.Errorf("IsLeapYear(%d) = %v, want %v", c.year, got, c.want)
		}
	}
}

func TestCentury(t *testing.T) {
	if IsLeapYear(1900) {
		t.Error("1900 is not a leap year")
	}
}
