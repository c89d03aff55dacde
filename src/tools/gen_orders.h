/* gen_orders.h - a seeded generator of realistic test orders (`perk gen-orders`), one cart JSON
 * document (docs/cart.md) per line, for `perk diff` and for benchmarks.
 *
 * The carts use the vocabulary of the ruleset they are meant for, found in its source: the
 * categories, skus, brands and tags its item sets test, its tiers, coupon codes and campaigns,
 * channels and subscription plans, and the dates of its `valid` clauses (orders fall in and
 * around them). Categories the built-in tea catalogue covers (tea/green, tea/dark, teaware, ...)
 * get its products; other categories and skus get generated products. Without a rule source (a
 * .pbc file) the tea catalogue is used alone and customers have no tier.
 *
 * The output depends only on the vocabulary, the currency, the count and the seed.
 */
#ifndef PERK_GEN_ORDERS_H
#define PERK_GEN_ORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A list of distinct strings (owned). */
typedef struct gen_words {
    char **items;
    size_t count, cap;
} gen_words;

/* What a ruleset's source mentions. */
typedef struct gen_vocab {
    gen_words categories, skus, brands, item_tags, customer_tags, channels, plans, coupons, campaigns, tiers;
    int64_t first_day, last_day; /* span of its `valid` clauses (days since 1970-01-01); 0, 0 = none */
} gen_vocab;

/* Reads the vocabulary of the rule file at `path` and its includes. Returns false with a message
 * when the file cannot be parsed (the caller is expected to have compiled it already, so this
 * only happens for unreadable files). */
bool gen_vocab_from_rules(gen_vocab *vocab, const char *path, char *err, size_t errlen);
/* Adds a word unless present. Returns false when out of memory. */
bool gen_words_add(gen_words *words, const char *word);
void gen_vocab_free(gen_vocab *vocab);

/* Writes `count` orders to out. currency is the ISO code written in every order, exponent its
 * minor-unit digits (0..3 are priced sensibly). Returns false on a write error. */
bool gen_orders_write(FILE *out, const gen_vocab *vocab, const char *currency, int exponent, uint64_t count,
                      uint64_t seed);

#endif
