/* check_stubs.h - TEMPORARY test-only stand-ins for the money/time-zone functions the checker
 * calls, used only while runtime/money.h and src/tzload.h (from the `money` branch) are not in
 * the tree. Each stub disappears by itself once the real header exists, so the real
 * implementation is linked from then on. Included by the checker's tests only.
 * TODO(merge): delete this file once the money branch is merged. */
#ifndef PERK_CHECK_STUBS_H
#define PERK_CHECK_STUBS_H

#include "check_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if !__has_include("money.h")
const money_currency *money_currency_find(const char *code)
{
    static const money_currency table[] = {
        {"CNY", 2, "\xC2\xA5"}, {"JPY", 0, "\xC2\xA5"}, {"USD", 2, "$"},     {"EUR", 2, "\xE2\x82\xAC"},
        {"GBP", 2, "\xC2\xA3"}, {"KRW", 0, "\xE2\x82\xA9"}, {"HKD", 2, "HKD "}, {"KWD", 3, "KWD "},
    };
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].code, code) == 0)
            return &table[i];
    return NULL;
}

bool money_percent(int64_t amount, int64_t ppm, money_rounding mode, int64_t *out)
{
    __int128 p = (__int128)amount * ppm;
    __int128 q = p / 1000000, r = p % 1000000;
    if (r != 0) {
        __int128 twice = (r < 0 ? -r : r) * 2;
        int sign = p < 0 ? -1 : 1;
        if (mode == MONEY_ROUND_HALF_UP && twice >= 1000000)
            q += sign;
        else if (mode == MONEY_ROUND_HALF_EVEN && (twice > 1000000 || (twice == 1000000 && (q & 1))))
            q += sign;
    }
    if (q > INT64_MAX || q < INT64_MIN)
        return false;
    *out = (int64_t)q;
    return true;
}

size_t money_format(int64_t minor, int exponent, const char *symbol, char *buf, size_t cap)
{
    uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t div = 1;
    for (int i = 0; i < exponent; i++)
        div *= 10;
    if (exponent == 0)
        return (size_t)snprintf(buf, cap, "%s%s%llu", minor < 0 ? "-" : "", symbol ? symbol : "",
                                (unsigned long long)mag);
    return (size_t)snprintf(buf, cap, "%s%s%llu.%0*llu", minor < 0 ? "-" : "", symbol ? symbol : "",
                            (unsigned long long)(mag / div), exponent, (unsigned long long)(mag % div));
}
#endif

#if !__has_include("tzload.h")
bool tzload_exists(const char *name)
{
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
        return true;
    if (name[0] == '/' || strstr(name, "..") != NULL)
        return false;
    const char *root = getenv("PERK_ZONEINFO");
    if (root == NULL || root[0] == '\0')
        root = "/usr/share/zoneinfo";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
#endif

#endif
