import { isLeap } from './leap';

describe('A leap year', () => {
  test('year not divisible by 4', () => {
    expect(isLeap(2015)).toBe(false);
  });

  xtest('year divisible by 400', () => {
    expect(isLeap(2000)).toBe(true);
  });

  xtest('year divisible by 100 but not by 400', () => {
    expect(isLeap(2100)).toBe(false);
  });
});
