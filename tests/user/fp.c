/* Floating point through printf/strtod and libm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    volatile double x = 1.0 / 3.0;
    printf("%.17g %e %a\n", x, x * 1e10, x);
    printf("%f %g %.3f\n", sqrt(2.0), exp(1.0), atan2(1.0, 1.0) * 4);
    float f = 0.1f;
    printf("%.9g %.2f\n", f * 3, (double)strtof("2.5e3", NULL));
    printf("%g %g %g\n", 1.0 / 0.0, -1.0 / 0.0, nan(""));
    double acc = 0;
    for (int i = 1; i <= 1000; i++)
        acc += 1.0 / (i * (double)i);
    printf("basel %.15f\n", acc);
    return 0;
}
