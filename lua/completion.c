/*
** completion.c
** Tab completion of Lua code for sflua's REPL (GNU readline).
** A word is completed as a global name or keyword, as a field after
** 'x.' or as a method after 'x:', where 'x' is a plain name chain
** ('pkt[IP].ds') that is evaluated without ever calling a function.
** Methods are offered as 'x:name(' (Python's rlcompleter also opens
** the parenthesis of a callable); after 'x.' they are offered only when
** no field matches, so 'p.sh' becomes 'p:show('.
*/

#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE  /* strdup */
#endif

#include <stdio.h>  /* before readline.h */
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include "lua.h"
#include "lauxlib.h"

#include "completion.h"


#define MAXCOMPLETE  1024  /* longest word we try to complete */
#define MAXINDEX     16    /* longest '__index' chain followed */
#define MAXNEST      4     /* deepest 'a[b[c]]' nesting evaluated */

/* stack slots of 'collect_completions' */
#define LISTIDX  1  /* the matches, as a sequence */
#define SEENIDX  2  /* set of matches already in the list */

/* what the word asks for */
#define W_NAME    0  /* a bare name: globals and keywords */
#define W_FIELD   1  /* after '.': fields and other values */
#define W_METHOD  2  /* after ':': callables, completed as 'x:name(' */

/* the word being completed, split into what stays and the name typed */
typedef struct Word {
  const char *text;   /* the whole word readline gave us */
  size_t keep;        /* length of the part before the name */
  const char *name;   /* start of the (partial) name */
  size_t namelen;
  int kind;           /* W_NAME, W_FIELD or W_METHOD */
} Word;

static const char *const keywords[] = {
  "and", "break", "do", "else", "elseif", "end", "false", "for",
  "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
  "return", "then", "true", "until", "while", NULL
};

static lua_State *completionL = NULL;  /* the REPL's state */


static int is_ident_start (int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}


static int is_ident_char (int c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}


/* length of the identifier at the start of 's', 0 if there is none */
static size_t ident_len (const char *s, size_t len) {
  size_t i = 0;
  if (len == 0 || !is_ident_start((unsigned char)s[0])) return 0;
  while (i < len && is_ident_char((unsigned char)s[i])) i++;
  return i;
}


static int is_keyword (const char *s, size_t len) {
  int i;
  for (i = 0; keywords[i] != NULL; i++)
    if (strlen(keywords[i]) == len && memcmp(keywords[i], s, len) == 0)
      return 1;
  return 0;
}


/* can 'k' follow a '.'? */
static int is_field_name (const char *k, size_t len) {
  return len > 0 && ident_len(k, len) == len && !is_keyword(k, len);
}


static int is_callable (lua_State *L, int idx) {
  int ok = lua_isfunction(L, idx);
  if (!ok && luaL_getmetafield(L, idx, "__call") != LUA_TNIL) {
    ok = 1;
    lua_pop(L, 1);  /* remove metafield */
  }
  return ok;
}


/*
** Adds a match for 'name' if it starts with what was typed: the part
** of the word before the name, then the name; a method as 'x:name('
** whatever separator was typed. Names starting with '__' (metamethods)
** show only when asked for.
*/
static void add_word (lua_State *L, const Word *w, const char *name,
                      size_t len, int method) {
  if (len < w->namelen || memcmp(name, w->name, w->namelen) != 0) return;
  if (len >= 2 && name[0] == '_' && name[1] == '_' &&
      (w->namelen == 0 || w->name[0] != '_'))
    return;
  if (method) {
    lua_pushlstring(L, w->text, w->keep - 1);  /* without '.' or ':' */
    lua_pushliteral(L, ":");
    lua_pushlstring(L, name, len);
    lua_pushliteral(L, "(");
    lua_concat(L, 4);
  }
  else {
    lua_pushlstring(L, w->text, w->keep);
    lua_pushlstring(L, name, len);
    lua_concat(L, 2);
  }
  lua_pushvalue(L, -1);
  if (lua_rawget(L, SEENIDX) == LUA_TNIL) {  /* a new match? */
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, SEENIDX);
    lua_pushvalue(L, -2);
    lua_rawseti(L, LISTIDX, (lua_Integer)lua_rawlen(L, LISTIDX) + 1);
  }
  lua_pop(L, 2);  /* remove 'rawget' result and the match */
}


/*
** Offers key 'k', a method or not: bare names take anything, a field
** word only non-methods, a method word only methods.
*/
static void offer (lua_State *L, const Word *w, const char *k, size_t len,
                   int method) {
  if (!is_field_name(k, len)) return;
  if (w->kind == W_NAME) add_word(L, w, k, len, 0);
  else if (method == (w->kind == W_METHOD)) add_word(L, w, k, len, method);
}


/*
** Pushes the '__index' of the metatable of the value at 'idx' if it is a
** table (methods and class fields); returns 0 and pushes nothing if not.
** Raw access: completion never runs a metamethod to look for keys.
*/
static int push_index_table (lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  lua_pushliteral(L, "__index");
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_remove(L, -2);  /* remove metatable */
    return 1;
  }
  lua_pop(L, 2);  /* remove '__index' and metatable */
  return 0;
}


/*
** Offers the string keys of table 't'. The value's own keys are fields
** (a module's functions are called with '.'), but its callables also
** serve as methods; in its '__index' tables ('class' is true) callables
** are methods only.
*/
static void add_table_keys (lua_State *L, const Word *w, int t, int class) {
  lua_pushnil(L);  /* first key */
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      size_t len;
      const char *k = lua_tolstring(L, -2, &len);  /* a string: no conversion */
      int callable = is_callable(L, -1);
      if (!class || !callable) offer(L, w, k, len, 0);
      if (callable) offer(L, w, k, len, 1);
    }
    lua_pop(L, 1);  /* remove value; keep key for 'lua_next' */
  }
}


static void add_list (lua_State *L, const Word *w, int list, int method) {
  lua_Integer i;
  for (i = 1; lua_rawgeti(L, list, i) == LUA_TSTRING; i++) {
    size_t len;
    const char *k = lua_tolstring(L, -1, &len);
    offer(L, w, k, len, method);
    lua_pop(L, 1);  /* remove name */
  }
  lua_pop(L, 1);  /* remove the value that ended the list */
}


/*
** Packets and layer views are the module's: ask it which names they
** have ('stackforge.completions(v)' -> fields, methods). Returns 0 if
** the module does not know the value.
*/
static int add_module_names (lua_State *L, const Word *w, int v) {
  int top = lua_gettop(L);
  int known = 0;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "stackforge") == LUA_TTABLE &&
      lua_getfield(L, -1, "completions") == LUA_TFUNCTION) {
    lua_pushvalue(L, v);
    if (lua_pcall(L, 1, 2, 0) == LUA_OK && lua_istable(L, -2)) {
      known = 1;
      add_list(L, w, lua_gettop(L) - 1, 0);
      if (lua_istable(L, -1)) add_list(L, w, lua_gettop(L), 1);
    }
  }
  lua_settop(L, top);
  return known;
}


/*
** Offers the names one can write after 'v.' or 'v:': the module's for
** its own objects; else a table's string keys and the keys of the
** '__index' tables along the metatable chain (strings get their methods
** this way).
*/
static void add_value_keys (lua_State *L, const Word *w, int v) {
  int depth;
  if (w->kind != W_NAME && add_module_names(L, w, v)) return;
  lua_pushvalue(L, v);
  for (depth = 0; depth < MAXINDEX; depth++) {
    if (lua_istable(L, -1))
      add_table_keys(L, w, lua_gettop(L), depth > 0);
    if (!push_index_table(L, -1)) break;
    lua_remove(L, -2);  /* continue with the '__index' table */
  }
  lua_pop(L, 1);
}


/*
** obj key -> obj[key], reading only: tables raw along their '__index'
** tables; userdata through their type's own '__index' (field access
** of packets and layers), which may raise an error (we run protected).
*/
static void lookup (lua_State *L) {
  int depth;
  if (lua_type(L, -2) == LUA_TUSERDATA) {
    lua_gettable(L, -2);
    lua_remove(L, -2);  /* remove object */
    return;
  }
  lua_pushvalue(L, -2);  /* stack: obj key cur */
  for (depth = 0; depth < MAXINDEX; depth++) {
    if (lua_istable(L, -1)) {
      lua_pushvalue(L, -2);
      if (lua_rawget(L, -2) != LUA_TNIL) break;  /* found */
      lua_pop(L, 1);
    }
    if (!push_index_table(L, -1)) {
      lua_pushnil(L);  /* not found */
      break;
    }
    lua_remove(L, -2);  /* continue with the '__index' table */
  }
  if (depth == MAXINDEX) lua_pushnil(L);  /* chain too long */
  lua_replace(L, -4);  /* result replaces obj */
  lua_pop(L, 2);  /* remove key and cur */
}


/*
** Index of the ']' closing the '[' at 'open', skipping quoted strings;
** 0 if there is none.
*/
static size_t closing_bracket (const char *s, size_t len, size_t open) {
  size_t i;
  int depth = 0;
  char quote = 0;
  for (i = open; i < len; i++) {
    char c = s[i];
    if (quote) {
      if (c == '\\') i++;  /* skip escaped character */
      else if (c == quote) quote = 0;
    }
    else if (c == '"' || c == '\'') quote = c;
    else if (c == '[') depth++;
    else if (c == ']' && --depth == 0) return i;
  }
  return 0;
}


static int push_chain (lua_State *L, const char *s, size_t len, int nest);


/*
** Pushes the key written inside '[...]': a plain string literal, a
** numeral, or (as in 'pkt[IP]') a name chain. Returns 0 if it is none.
*/
static int push_key (lua_State *L, const char *s, size_t len, int nest) {
  while (len > 0 && s[0] == ' ') { s++; len--; }
  while (len > 0 && s[len - 1] == ' ') len--;
  if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
    if (memchr(s + 1, s[0], len - 2) || memchr(s + 1, '\\', len - 2))
      return 0;  /* escapes: not worth decoding here */
    lua_pushlstring(L, s + 1, len - 2);
    return 1;
  }
  lua_pushlstring(L, s, len);
  if (lua_stringtonumber(L, lua_tostring(L, -1)) != 0) {
    lua_remove(L, -2);  /* keep the number, remove the text */
    return 1;
  }
  lua_pop(L, 1);
  return push_chain(L, s, len, nest + 1);
}


/*
** Evaluates 's' if it is a simple name chain ('a.b["c"][1]') and pushes
** its value; returns 0 (pushing nothing) if it is not or a link is nil.
** Never calls a function: no '()' is accepted.
*/
static int push_chain (lua_State *L, const char *s, size_t len, int nest) {
  int top = lua_gettop(L);
  size_t i = ident_len(s, len);
  if (i == 0 || nest > MAXNEST) return 0;
  lua_pushglobaltable(L);
  lua_pushlstring(L, s, i);
  lookup(L);
  while (i < len && !lua_isnil(L, -1)) {
    if (s[i] == '.') {
      size_t n = ident_len(s + i + 1, len - i - 1);
      if (n == 0) break;
      lua_pushlstring(L, s + i + 1, n);
      i += n + 1;
    }
    else if (s[i] == '[') {
      size_t close = closing_bracket(s, len, i);
      if (close == 0 || !push_key(L, s + i + 1, close - i - 1, nest)) break;
      i = close + 1;
    }
    else break;
    lookup(L);
  }
  if (i < len || lua_isnil(L, -1)) {
    lua_settop(L, top);
    return 0;
  }
  return 1;
}


static void complete_name (lua_State *L, const Word *w) {
  int i;
  lua_pushglobaltable(L);
  add_value_keys(L, w, lua_gettop(L));
  lua_pop(L, 1);
  for (i = 0; keywords[i] != NULL; i++)
    add_word(L, w, keywords[i], strlen(keywords[i]), 0);
}


/*
** Completes 'text[from..]' as '[chain(.|:)]partial-name', collecting
** matches that keep 'text[0..from)' in front. Returns 0 if that part of
** the word does not have this shape.
*/
static int complete_from (lua_State *L, const char *text, size_t from) {
  const char *s = text + from;
  size_t len = strlen(s);
  size_t start = len;  /* start of the trailing partial name */
  Word w;
  while (start > 0 && is_ident_char((unsigned char)s[start - 1])) start--;
  w.text = text;
  w.keep = from + start;
  w.name = s + start;
  w.namelen = len - start;
  w.kind = W_NAME;
  if (start == 0) {  /* a bare name: globals and keywords */
    if (len > 0 && !is_ident_start((unsigned char)s[0])) return 0;
    complete_name(L, &w);
    return 1;
  }
  if (s[start - 1] != '.' && s[start - 1] != ':') return 0;
  if (!push_chain(L, s, start - 1, 0)) return 0;
  w.kind = (s[start - 1] == ':') ? W_METHOD : W_FIELD;
  add_value_keys(L, &w, lua_gettop(L));
  if (w.kind == W_FIELD && lua_rawlen(L, LISTIDX) == 0) {
    w.kind = W_METHOD;  /* no field matches: 'p.sh' -> 'p:show(' */
    add_value_keys(L, &w, lua_gettop(L));
  }
  lua_pop(L, 1);
  return 1;
}


/*
** Can a name chain start at 'text[i]'? Not inside a name, nor right
** after a '.' or ':' (that is a field of something we cannot evaluate,
** as in 'f().x'), except after the concatenation operator '..'.
*/
static int can_start_chain (const char *text, size_t i, size_t len) {
  char prev;
  if (i < len && !is_ident_start((unsigned char)text[i])) return 0;
  if (i == 0) return 1;
  prev = text[i - 1];
  if (is_ident_char((unsigned char)prev)) return 0;
  if (prev == ':') return 0;
  if (prev == '.') return i >= 2 && text[i - 2] == '.';
  return 1;
}


/*
** Protected: collects the matches for the word (a light userdata) into
** a list. The longest chain that parses wins, so 't[na' completes the
** global 'na...' and 'a.b.c' the fields of 'a.b'.
*/
static int collect_completions (lua_State *L) {
  const char *text = (const char *)lua_touserdata(L, 1);
  size_t len = strlen(text), i;
  lua_settop(L, 0);
  lua_newtable(L);  /* LISTIDX */
  lua_newtable(L);  /* SEENIDX */
  if (len > MAXCOMPLETE) return 0;
  for (i = 0; i <= len; i++) {
    if (can_start_chain(text, i, len) && complete_from(L, text, i))
      break;
  }
  lua_settop(L, LISTIDX);
  return 1;
}


static lua_Integer next_index;  /* state of 'next_match' */
static int match_list;          /* stack index of the list of matches */


/*
** readline's generator: hands out the collected matches one by one.
*/
static char *next_match (const char *text, int state) {
  lua_State *L = completionL;
  char *m = NULL;
  (void)text;  /* the list is already filtered */
  if (state == 0) next_index = 1;
  if (lua_rawgeti(L, match_list, next_index++) == LUA_TSTRING)
    m = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  return m;
}


/*
** readline's completion function. It runs while the REPL waits for a
** line, with SIGINT blocked, so a plain protected call is enough.
*/
static char **complete (const char *text, int start, int end) {
  lua_State *L = completionL;
  char **matches = NULL;
  int top;
  (void)start; (void)end;
  rl_attempted_completion_over = 1;  /* no file names in Lua code... */
  if (rl_completion_quote_character != 0) {  /* ...but inside a string */
    rl_attempted_completion_over = 0;  /* a file name is the likely word */
    return NULL;
  }
  rl_completion_append_character = '\0';  /* 'p.' or 'p:' may follow */
  if (L == NULL || !lua_checkstack(L, 4)) return NULL;
  top = lua_gettop(L);
  lua_pushcfunction(L, collect_completions);
  lua_pushlightuserdata(L, (void *)text);  /* no allocation outside pcall */
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    match_list = lua_gettop(L);
    matches = rl_completion_matches(text, next_match);
  }
  lua_settop(L, top);
  return matches;
}


void sflua_init_completion (lua_State *L) {
  completionL = L;
  rl_attempted_completion_function = complete;
  /* '.', ':', '[', ']' and quotes stay in the word ('pkt[IP].ds'); so
     do '/' and '~', which readline would skip at the start of a quoted
     file name ("/tmp/x.pcap"); 'can_start_chain' finds where names start */
  rl_completer_word_break_characters = " \t\n`@$><=;|&{(),+-*%^#!?";
  rl_completer_quote_characters = "\"'";
}
