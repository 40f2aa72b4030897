/*
** completion.h
** Tab completion of Lua code for sflua's REPL (GNU readline).
*/

#ifndef SFLUA_COMPLETION_H
#define SFLUA_COMPLETION_H

#include "lua.h"

/*
** Makes readline complete Lua names in the state 'L': globals and
** keywords, fields after 'x.', methods after 'x:' (as 'x:name(').
*/
void sflua_init_completion (lua_State *L);

#endif
