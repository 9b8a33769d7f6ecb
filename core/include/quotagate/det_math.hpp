// Deterministic floating point: only IEEE-754 basic operations (+ - * / and rounding), which are
// correctly rounded on every platform. libm's exp/pow may differ in the last bit between glibc
// (native) and musl (wasm), which would break byte-identical JSON, so the core uses these instead.
#pragma once

namespace qg {

// 2^x for |x| <= 1024, accurate to about 1 ulp; 0 below -1074.
double det_exp2(double x);
// Rounds to `decimals` places (half away from zero). Used on every float the core reports.
double round_to(double x, int decimals);

}  // namespace qg
