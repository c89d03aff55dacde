/* version.c - the version of the running libperk, so that a program built against one perk.h
 * and run with another libperk.so can tell (compare perk_version() with PERK_VERSION_NUMBER). */
#include "perk.h"

int perk_version(void) { return PERK_VERSION_NUMBER; }

const char *perk_version_string(void) { return PERK_VERSION_STRING; }
