/* cart_json.h - the cart reader moved into libperk (runtime/cart_json.h, public face perk_json.h);
 * this forwarder keeps `#include "json/cart_json.h"` of the CLI's modules and tests working. The
 * angle brackets search the -I folders only, where runtime/ comes first. */
#include <cart_json.h>
