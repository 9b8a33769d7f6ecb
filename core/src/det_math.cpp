// det_exp2 via range reduction to [-0.5, 0.5] and a Taylor series of e^(r ln2).
#include "quotagate/det_math.hpp"

#include <cmath>

namespace qg {

double det_exp2(double x) {
  if (x != x) return x;
  if (x > 1023) return HUGE_VAL;
  if (x < -1074) return 0.0;
  const double n = std::floor(x + 0.5);  // floor is exact
  const double r = (x - n) * 0.69314718055994530942;  // |r| <= 0.347
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 18; ++k) {
    term = term * r / k;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(n));  // exact scaling by a power of two
}

double round_to(double x, int decimals) {
  static const double kScale[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  const double scale = decimals >= 0 && decimals < 10 ? kScale[decimals] : 1e9;
  const double r = std::round(x * scale) / scale;
  return r == 0 ? 0.0 : r;  // never emit -0
}

}  // namespace qg
