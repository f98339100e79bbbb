/* delivery v2: the same container, attesting every other loop. */
#define VERSION 2
#include "delivery.c"
