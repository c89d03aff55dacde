/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison interface for Yacc-like parsers in C

   Copyright (C) 1984, 1989-1990, 2000-2015, 2018-2021 Free Software Foundation,
   Inc.

   This program is free software: you can redistribute it and/or modify
   it under the terms of the GNU General Public License as published by
   the Free Software Foundation, either version 3 of the License, or
   (at your option) any later version.

   This program is distributed in the hope that it will be useful,
   but WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
   GNU General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* As a special exception, you may create a larger work that contains
   part or all of the Bison parser skeleton and distribute that work
   under terms of your choice, so long as that work isn't itself a
   parser generator using the skeleton or a modified version thereof
   as a parser skeleton.  Alternatively, if you modify or redistribute
   the parser skeleton itself, you may (at your option) remove this
   special exception, which will cause the skeleton and the resulting
   Bison output files to be licensed under the GNU General Public
   License without this special exception.

   This special exception was added by the Free Software Foundation in
   version 2.2 of Bison.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

#ifndef YY_YY_BUILD_DEV_GEN_PARSER_H_INCLUDED
# define YY_YY_BUILD_DEV_GEN_PARSER_H_INCLUDED
/* Debug traces.  */
#ifndef YYDEBUG
# define YYDEBUG 0
#endif
#if YYDEBUG
extern int yydebug;
#endif
/* "%code requires" blocks.  */
#line 21 "grammar/parser.y"

#include "compiler/ast.h"
#include "compiler/parse_internal.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

#line 58 "build-dev/gen/parser.h"

/* Token kinds.  */
#ifndef YYTOKENTYPE
# define YYTOKENTYPE
  enum yytokentype
  {
    YYEMPTY = -2,
    T_EOF = 0,                     /* "end of file"  */
    YYerror = 256,                 /* error  */
    YYUNDEF = 257,                 /* "invalid token"  */
    T_INT = 258,                   /* "a whole number"  */
    T_DECIMAL = 259,               /* "a number"  */
    T_MONEY = 260,                 /* "an amount of money"  */
    T_PERCENT = 261,               /* "a percentage"  */
    T_STRING = 262,                /* "a string"  */
    T_DATE = 263,                  /* "a date"  */
    T_TIME = 264,                  /* "a time of day"  */
    T_DURATION = 265,              /* "a duration"  */
    T_MULT = 266,                  /* "a multiplier"  */
    T_IDENT = 267,                 /* "a name"  */
    T_FUNC = 268,                  /* "a function"  */
    T_DAYNAME = 269,               /* "a weekday"  */
    T_LBRACE = 270,                /* "'{'"  */
    T_RBRACE = 271,                /* "'}'"  */
    T_RBRACE_END = 272,            /* "the closing '}'"  */
    T_LPAREN = 273,                /* "'('"  */
    T_RPAREN = 274,                /* "')'"  */
    T_LBRACKET = 275,              /* "'['"  */
    T_RBRACKET = 276,              /* "']'"  */
    T_COMMA = 277,                 /* "','"  */
    T_COLON = 278,                 /* "':'"  */
    T_DOT = 279,                   /* "'.'"  */
    T_DOTDOT = 280,                /* "'..'"  */
    T_EQ = 281,                    /* "'='"  */
    T_NE = 282,                    /* "'!='"  */
    T_LT = 283,                    /* "'<'"  */
    T_LE = 284,                    /* "'<='"  */
    T_GT = 285,                    /* "'>'"  */
    T_GE = 286,                    /* "'>='"  */
    T_PLUS = 287,                  /* "'+'"  */
    T_MINUS = 288,                 /* "'-'"  */
    T_STAR = 289,                  /* "'*'"  */
    T_SLASH = 290,                 /* "'/'"  */
    T_MOD = 291,                   /* "'mod'"  */
    T_RULESET = 292,               /* "'ruleset'"  */
    T_CURRENCY = 293,              /* "'currency'"  */
    T_TIMEZONE = 294,              /* "'timezone'"  */
    T_ROUNDING = 295,              /* "'rounding'"  */
    T_MAX = 296,                   /* "'max'"  */
    T_DISCOUNT = 297,              /* "'discount'"  */
    T_COUPONS = 298,               /* "'coupons'"  */
    T_PER = 299,                   /* "'per'"  */
    T_ORDER = 300,                 /* "'order'"  */
    T_INCLUDE = 301,               /* "'include'"  */
    T_LET = 302,                   /* "'let'"  */
    T_TIER = 303,                  /* "'tier'"  */
    T_SPEND = 304,                 /* "'spend'"  */
    T_WITHIN = 305,                /* "'within'"  */
    T_BENEFIT = 306,               /* "'benefit'"  */
    T_PROMOTION = 307,             /* "'promotion'"  */
    T_EARN = 308,                  /* "'earn'"  */
    T_WHEN = 309,                  /* "'when'"  */
    T_CAP = 310,                   /* "'cap'"  */
    T_THEN = 311,                  /* "'then'"  */
    T_MULTIPLIER = 312,            /* "'multiplier'"  */
    T_ON = 313,                    /* "'on'"  */
    T_ALL = 314,                   /* "'all'"  */
    T_REDEEM = 315,                /* "'redeem'"  */
    T_RATE = 316,                  /* "'rate'"  */
    T_POINTS = 317,                /* "'points'"  */
    T_POINT = 318,                 /* "'point'"  */
    T_PAYS = 319,                  /* "'pays'"  */
    T_FOR = 320,                   /* "'for'"  */
    T_MIN = 321,                   /* "'min'"  */
    T_BALANCE = 322,               /* "'balance'"  */
    T_PENDING = 323,               /* "'pending'"  */
    T_EXPIRE = 324,                /* "'expire'"  */
    T_AFTER = 325,                 /* "'after'"  */
    T_PRIORITY = 326,              /* "'priority'"  */
    T_VALID = 327,                 /* "'valid'"  */
    T_TO = 328,                    /* "'to'"  */
    T_EVERY = 329,                 /* "'every'"  */
    T_HOURS = 330,                 /* "'hours'"  */
    T_REQUIRES = 331,              /* "'requires'"  */
    T_COUPON = 332,                /* "'coupon'"  */
    T_FROM = 333,                  /* "'from'"  */
    T_EXCLUSIVE = 334,             /* "'exclusive'"  */
    T_STOP = 335,                  /* "'stop'"  */
    T_LIMIT = 336,                 /* "'limit'"  */
    T_USES = 337,                  /* "'uses'"  */
    T_TOTAL = 338,                 /* "'total'"  */
    T_CUSTOMER = 339,              /* "'customer'"  */
    T_MEASURE = 340,               /* "'measure'"  */
    T_STAGE = 341,                 /* "'stage'"  */
    T_ORIGINAL = 342,              /* "'original'"  */
    T_PRICES = 343,                /* "'prices'"  */
    T_OFF = 344,                   /* "'off'"  */
    T_EACH = 345,                  /* "'each'"  */
    T_SHIPPING = 346,              /* "'shipping'"  */
    T_FREE = 347,                  /* "'free'"  */
    T_PRICE = 348,                 /* "'price'"  */
    T_AT = 349,                    /* "'at'"  */
    T_BY = 350,                    /* "'by'"  */
    T_QUANTITY = 351,              /* "'quantity'"  */
    T_TIERS = 352,                 /* "'tiers'"  */
    T_UP = 353,                    /* "'up'"  */
    T_BUY = 354,                   /* "'buy'"  */
    T_OF = 355,                    /* "'of'"  */
    T_GET = 356,                   /* "'get'"  */
    T_ANY = 357,                   /* "'any'"  */
    T_GIFT = 358,                  /* "'gift'"  */
    T_EFFECT = 359,                /* "'effect'"  */
    T_MOST_EXPENSIVE = 360,        /* "'most expensive'"  */
    T_WHERE = 361,                 /* "'where'"  */
    T_OR = 362,                    /* "'or'"  */
    T_AND = 363,                   /* "'and'"  */
    T_NOT = 364,                   /* "'not'"  */
    T_NOT_IN = 365,                /* "'not in'"  */
    T_IS = 366,                    /* "'is'"  */
    T_IS_NOT = 367,                /* "'is not'"  */
    T_IN = 368,                    /* "'in'"  */
    T_UNION = 369,                 /* "'union'"  */
    T_EXCEPT = 370,                /* "'except'"  */
    T_IS_KNOWN = 371,              /* "'is known'"  */
    T_IS_UNKNOWN = 372,            /* "'is unknown'"  */
    T_ITEMS = 373,                 /* "'items'"  */
    T_TODAY = 374,                 /* "'today'"  */
    T_WEEKDAY = 375,               /* "'weekday'"  */
    T_TIME_KW = 376,               /* "'time'"  */
    T_TRUE = 377,                  /* "'true'"  */
    T_FALSE = 378,                 /* "'false'"  */
    UMINUS = 379                   /* UMINUS  */
  };
  typedef enum yytokentype yytoken_kind_t;
#endif

/* Value type.  */
#if ! defined YYSTYPE && ! defined YYSTYPE_IS_DECLARED
union YYSTYPE
{
#line 63 "grammar/parser.y"

    ast_node *node;

#line 203 "build-dev/gen/parser.h"

};
typedef union YYSTYPE YYSTYPE;
# define YYSTYPE_IS_TRIVIAL 1
# define YYSTYPE_IS_DECLARED 1
#endif

/* Location type.  */
typedef ast_span YYLTYPE;




int yyparse (yyscan_t scanner, parse_state *ps);


#endif /* !YY_YY_BUILD_DEV_GEN_PARSER_H_INCLUDED  */
