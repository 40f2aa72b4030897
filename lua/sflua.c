/*
** sflua.c
** The sflua interpreter: Lua 5.4 with the stackforge engine linked in.
** Options, 'arg' and the REPL follow Lua's own lua.c; on top of it sflua
** finds its stdlib, makes every public stackforge name a global, and gives
** the REPL readline editing, persistent history and tab completion of
** names, layers and fields (completion.c).
*/

#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE  /* readlink, strdup, getline, sigaction, pselect */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <readline/readline.h>  /* needs stdio.h first */
#include <readline/history.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "completion.h"
#include "sf_version.h"  /* SF_VERSION, generated from CMakeLists.txt */

/* the build directory and the source tree's stdlib/ it uses ("" = none) */
#ifndef SFLUA_BUILD_DIR
#define SFLUA_BUILD_DIR ""
#endif
#ifndef SFLUA_BUILD_STDLIB
#define SFLUA_BUILD_STDLIB ""
#endif

/* where 'cmake --install' puts the stdlib, and where that is from the
   installed executable (for an install into another prefix) */
#ifndef SFLUA_INSTALL_STDLIB
#define SFLUA_INSTALL_STDLIB "/usr/local/share/lua/5.4"
#endif
#ifndef SFLUA_EXE_STDLIB
#define SFLUA_EXE_STDLIB "../share/lua/5.4"
#endif

#define SFLUA_PROMPT    "sf> "
#define SFLUA_PROMPT2   "sf>> "
#define SFLUA_HISTSIZE  1000   /* entries kept in the history file */
#define SFLUA_HISTFILE  ".sflua_history"

#define LUA_INIT_VAR        "LUA_INIT"
#define LUA_INITVARVERSION  LUA_INIT_VAR LUA_VERSUFFIX

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* provided by the engine library (the other files in lua/) */
int luaopen_stackforge_core (lua_State *L);


static lua_State *globalL = NULL;  /* for 'laction' */

static const char *progname = "sflua";

/* set by Ctrl-C / Ctrl-Z while the REPL waits for input */
static volatile sig_atomic_t prompt_interrupted = 0;
static volatile sig_atomic_t prompt_suspended = 0;

/* is the REPL reading from a terminal (readline) or from a pipe? */
static int interactive = 0;

/* history file of an interactive REPL, or NULL */
static char *history_path = NULL;


/*
** {==================================================================
** Signals: Ctrl-C while Lua runs
** ===================================================================
*/

static void setsignal (int sig, void (*handler)(int), struct sigaction *old) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;  /* no SA_RESTART: a blocked read must see EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, old);
}


/*
** Hook set by 'laction' to stop the interpreter at the next safe point.
*/
static void lstop (lua_State *L, lua_Debug *ar) {
  (void)ar;  /* unused arg. */
  lua_sethook(L, NULL, 0, 0);  /* reset hook */
  luaL_error(L, "interrupted!");
}


/*
** Function to be called at a C signal. Because a C signal cannot
** just change a Lua state (as there is no proper synchronization),
** this function only sets a hook that, when called, will stop the
** interpreter.
*/
static void laction (int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  setsignal(sig, SIG_DFL, NULL);  /* a second Ctrl-C kills a stuck C call */
  lua_sethook(globalL, lstop, flag, 1);
}


/*
** Ctrl-C while the REPL is reading: just note it; the reading loop
** discards the line.
*/
static void prompt_sigint (int sig) {
  (void)sig;
  prompt_interrupted = 1;
}


/*
** Ctrl-Z while the REPL is reading: noted too, as the terminal must be
** restored before stopping (see 'suspend').
*/
static void prompt_sigtstp (int sig) {
  (void)sig;
  prompt_suspended = 1;
}

/* }================================================================== */


/*
** {==================================================================
** Running code (as lua.c)
** ===================================================================
*/

static void print_usage (FILE *f, const char *badoption) {
  if (badoption != NULL) {
    if (badoption[1] == 'e' || badoption[1] == 'l')
      fprintf(f, "%s: '%s' needs argument\n", progname, badoption);
    else
      fprintf(f, "%s: unrecognized option '%s'\n", progname, badoption);
  }
  fprintf(f,
  "usage: %s [options] [script [args]]\n"
  "Available options are:\n"
  "  -e stat   execute string 'stat'\n"
  "  -i        enter interactive mode after executing 'script'\n"
  "  -l mod    require library 'mod' into global 'mod'\n"
  "  -l g=mod  require library 'mod' into global 'g'\n"
  "  -v        show version information\n"
  "  -E        ignore environment variables\n"
  "  -W        turn warnings on\n"
  "  -h        show this help\n"
  "  --        stop handling options\n"
  "  -         stop handling options and execute stdin\n"
  "Without a script and with a terminal on stdin, starts the REPL.\n"
  "As a capture reader: %s -r FILE [-Y FILTER] [-w OUT] [-T fields -e FIELD ...]\n"
  "As a mapper: %s -m SCRIPT.lua [ARGS] (capture paths on stdin, JSONL out)\n",
  progname, progname, progname);
  fflush(f);
}


/*
** Prints an error message, adding the program name in front of it
** (if present)
*/
static void l_message (const char *pname, const char *msg) {
  if (pname) fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}


/*
** Check whether 'status' is not OK and, if so, prints the error
** message on the top of the stack.
*/
static int report (lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    l_message(progname, msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);  /* remove message */
  }
  return status;
}


/*
** Message handler used to run all chunks
*/
static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {  /* is error object not a string? */
    if (luaL_callmeta(L, 1, "__tostring") &&  /* does it have a metamethod */
        lua_type(L, -1) == LUA_TSTRING)  /* that produces a string? */
      return 1;  /* that is the message */
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                               luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);  /* append a standard traceback */
  return 1;  /* return the traceback */
}


/*
** Interface to 'lua_pcall', which sets appropriate message function
** and C-signal handler. Used to run all chunks.
*/
static int docall (lua_State *L, int narg, int nres) {
  int status;
  struct sigaction oldact;
  sigset_t intr, oldmask;
  int base = lua_gettop(L) - narg;  /* function index */
  lua_pushcfunction(L, msghandler);  /* push message handler */
  lua_insert(L, base);  /* put it under function and args */
  globalL = L;  /* to be available to 'laction' */
  setsignal(SIGINT, laction, &oldact);
  sigemptyset(&intr);
  sigaddset(&intr, SIGINT);
  sigprocmask(SIG_UNBLOCK, &intr, &oldmask);  /* the prompt blocks it */
  status = lua_pcall(L, narg, nres, base);
  sigprocmask(SIG_SETMASK, &oldmask, NULL);
  sigaction(SIGINT, &oldact, NULL);  /* restore previous handler */
  if (lua_gethook(L) == lstop)  /* Ctrl-C came after the last instruction? */
    lua_sethook(L, NULL, 0, 0);  /* do not let it hit the next chunk */
  lua_remove(L, base);  /* remove message handler from the stack */
  return status;
}


static void print_version (void) {
  printf("sflua %s (%s)\n", SF_VERSION, LUA_RELEASE);
  fflush(stdout);
}


/*
** Create the 'arg' table, which stores all arguments from the
** command line ('argv'). It should be aligned so that, at index 0,
** it has 'argv[script]', which is the script name. The arguments
** to the script (everything after 'script') go to positive indices;
** other arguments (before the script name) go to negative indices.
** If there is no script name, assume interpreter's name as base.
*/
static void createargtable (lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script <= 0) script = 0;  /* no script name? */
  narg = argc - (script + 1);  /* number of positive indices */
  lua_createtable(L, narg > 0 ? narg : 0, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}


static int dochunk (lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}


static int dofile (lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}


static int dostring (lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}


/*
** Receives 'globname[=modname]' and runs 'globname = require(modname)'.
*/
static int dolibrary (lua_State *L, char *globname) {
  int status;
  char *modname = strchr(globname, '=');
  if (modname == NULL)  /* no explicit name? */
    modname = globname;  /* module name is equal to global name */
  else {
    *modname = '\0';  /* global name ends here */
    modname++;  /* module name starts after the '=' */
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  status = docall(L, 1, 1);  /* call 'require(modname)' */
  if (status == LUA_OK)
    lua_setglobal(L, globname);  /* globname = require(modname) */
  return report(L, status);
}


/*
** Push on the stack the contents of table 'arg' from 1 to #arg
*/
static int pushargs (lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -i);  /* remove table from the stack */
  return n;
}


static int handle_script (lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;  /* stdin */
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);  /* push arguments to script */
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}


/*
** After the script: keep running the event loop while sources (an
** AsyncSniffer, luv's timers and servers) are active, as Node.js does;
** Ctrl-C stops it and sflua exits with 130 (lua/lloop.c).
*/
static int run_loop (lua_State *L) {
  return dostring(L, "local c = require('stackforge.core')\n"
                     "if c.loop_alive() and c.loop_run() == false then os.exit(130, true) end",
                  "=(event loop)");
}


/* bits of the options present in the command line */
#define has_error  1  /* bad option */
#define has_i      2  /* -i */
#define has_v      4  /* -v */
#define has_e      8  /* -e */
#define has_E      16 /* -E */
#define has_h      32 /* -h, --help */


/*
** Traverses all arguments from 'argv', returning a mask with those
** needed before running any Lua code or an error code if it finds any
** invalid argument. In case of error, 'first' is the index of the bad
** argument. Otherwise, 'first' is -1 if there is no program name,
** 0 if there is no script name, or the index of the script name.
*/
static int collectargs (char **argv, int *first) {
  int args = 0;
  int i;
  if (argv[0] != NULL) {  /* is there a program name? */
    if (argv[0][0])  /* not empty? */
      progname = argv[0];  /* save it */
  }
  else {  /* no program name */
    *first = -1;
    return 0;
  }
  for (i = 1; argv[i] != NULL; i++) {  /* handle arguments */
    *first = i;
    if (argv[i][0] != '-')  /* not an option? */
      return args;  /* stop handling options */
    switch (argv[i][1]) {  /* else check option */
      case '-':  /* '--' */
        if (strcmp(argv[i], "--help") == 0) {
          args |= has_h;
          break;
        }
        if (argv[i][2] != '\0')  /* extra characters after '--'? */
          return has_error;  /* invalid option */
        *first = (argv[i + 1] != NULL) ? i + 1 : 0;
        return args;
      case '\0':  /* '-' */
        return args;  /* script "name" is '-' */
      case 'E':
        if (argv[i][2] != '\0')  /* extra characters? */
          return has_error;  /* invalid option */
        args |= has_E;
        break;
      case 'W':
        if (argv[i][2] != '\0')  /* extra characters? */
          return has_error;  /* invalid option */
        break;
      case 'h':
        if (argv[i][2] != '\0')  /* extra characters? */
          return has_error;  /* invalid option */
        args |= has_h;
        break;
      case 'i':
        if (argv[i][2] != '\0')  /* extra characters? */
          return has_error;  /* invalid option */
        args |= has_i;  /* the REPL prints its own banner: no -v */
        break;
      case 'v':
        if (argv[i][2] != '\0')  /* extra characters? */
          return has_error;  /* invalid option */
        args |= has_v;
        break;
      case 'e':  case 'l':  /* both options need an argument */
        if (argv[i][1] == 'e')
          args |= has_e;
        if (argv[i][2] == '\0') {  /* no concatenated argument? */
          i++;  /* try next 'argv' */
          if (argv[i] == NULL || argv[i][0] == '-')
            return has_error;  /* no next argument or it is another option */
        }
        break;
      default:  /* invalid option */
        return has_error;
    }
  }
  *first = 0;  /* no script name */
  return args;
}


/*
** Processes options 'e', 'l' and 'W', which involve running Lua code
** or changing the state. Returns 0 if some code raises an error.
*/
static int runargs (lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e':  case 'l': {
        int status;
        char *extra = argv[i] + 2;  /* both options need an argument */
        if (*extra == '\0') extra = argv[++i];
        status = (option == 'e')
                 ? dostring(L, extra, "=(command line)")
                 : dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);  /* warnings on */
        break;
    }
  }
  return 1;
}


static int handle_luainit (lua_State *L) {
  const char *name = "=" LUA_INITVARVERSION;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" LUA_INIT_VAR;
    init = getenv(name + 1);  /* try alternative name */
  }
  if (init == NULL) return LUA_OK;
  else if (init[0] == '@')
    return dofile(L, init + 1);
  else
    return dostring(L, init, name);
}

/* }================================================================== */


/*
** {==================================================================
** Startup: stdlib path, engine, public names as globals
** ===================================================================
*/

static int is_dir (const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}


static int is_file (const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}


/*
** A built-in candidate counts only if it holds the stackforge module, so
** that a bare /usr/local/share/lua/5.4 does not shadow the right one.
*/
static int has_stackforge (lua_State *L, const char *dir) {
  int ok;
  int top = lua_gettop(L);
  if (dir == NULL || dir[0] == '\0') return 0;
  ok = is_file(lua_pushfstring(L, "%s/stackforge/init.lua", dir)) ||
       is_file(lua_pushfstring(L, "%s/stackforge.lua", dir));
  lua_settop(L, top);  /* remove the file names */
  return ok;
}


/*
** Writes the directory holding the executable (symbolic links resolved)
** into 'buf'; returns 0 if it cannot be known.
*/
static int exe_dir (char *buf, size_t size) {
  char *slash;
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  if ((slash = strrchr(buf, '/')) == NULL) return 0;
  *slash = '\0';  /* keep the directory */
  return 1;
}


/*
** Is this the binary in its build directory? Only that one reads the
** source tree's stdlib/: an installed sflua must not change when the
** clone it was built from is edited or deleted.
*/
static int in_build_dir (const char *exedir) {
  char build[PATH_MAX];
  return SFLUA_BUILD_DIR[0] != '\0' && realpath(SFLUA_BUILD_DIR, build) != NULL &&
         strcmp(build, exedir) == 0;
}


/*
** Pushes the stdlib installed next to the executable in 'exedir'
** (bin/../share/lua/5.4); returns 0, pushing nothing, if there is none.
*/
static int push_exe_stdlib (lua_State *L, const char *exedir) {
  char dir[PATH_MAX], real[PATH_MAX];
  int n = snprintf(dir, sizeof(dir), "%s/" SFLUA_EXE_STDLIB, exedir);
  if (n < 0 || n >= (int)sizeof(dir) || realpath(dir, real) == NULL ||
      !has_stackforge(L, real))
    return 0;
  lua_pushstring(L, real);
  return 1;
}


/*
** Pushes the stdlib directory: $SFLUA_STDLIB if it is a directory; for
** the binary in its build directory, the source tree's; for any other,
** the installed one next to the executable, else the install prefix's.
** Pushes nil if there is none.
*/
static void push_stdlib_dir (lua_State *L, int noenv) {
  const char *env = noenv ? NULL : getenv("SFLUA_STDLIB");
  const char *dir = SFLUA_INSTALL_STDLIB;
  char exedir[PATH_MAX];
  int known = exe_dir(exedir, sizeof(exedir));
  if (env != NULL && is_dir(env)) {  /* the user's choice, module or not */
    lua_pushstring(L, env);
    return;
  }
  if (known && in_build_dir(exedir))
    dir = SFLUA_BUILD_STDLIB;
  else if (known && push_exe_stdlib(L, exedir))
    return;
  if (has_stackforge(L, dir)) lua_pushstring(L, dir);
  else lua_pushnil(L);
}


/*
** package.path = '<dir>/?.lua;<dir>/?/init.lua;' .. package.path
*/
static void prepend_path (lua_State *L, const char *dir) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir,
                     lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);  /* remove old path and 'package' */
}


/*
** The engine is linked in: 'require "stackforge.core"' must find it
** before any .so that happens to lie on package.cpath.
*/
static void preload_core (lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_stackforge_core);
  lua_setfield(L, -2, "stackforge.core");
  lua_pop(L, 1);  /* remove preload table */
}


/*
** Copies the string-keyed fields of the module at 'mod' into _G,
** leaving alone any global that already exists ('type', 'print', ...).
*/
static void export_names (lua_State *L, int mod) {
  int g;
  lua_pushglobaltable(L);
  g = lua_gettop(L);
  lua_pushnil(L);  /* first key */
  while (lua_next(L, mod) != 0) {  /* stack: key value */
    if (lua_type(L, -2) == LUA_TSTRING) {
      lua_pushvalue(L, -2);
      if (lua_rawget(L, g) == LUA_TNIL) {  /* not a global yet? */
        lua_pushvalue(L, -3);  /* key */
        lua_pushvalue(L, -3);  /* value */
        lua_rawset(L, g);
      }
      lua_pop(L, 1);  /* remove result of 'rawget' */
    }
    lua_pop(L, 1);  /* remove value; keep key for 'lua_next' */
  }
  lua_pop(L, 1);  /* remove _G */
}


/*
** stackforge = require "stackforge", and its names become globals.
*/
static int load_stackforge (lua_State *L) {
  int status;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "stackforge");
  status = docall(L, 1, 1);
  if (status != LUA_OK) return report(L, status);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "stackforge");
  if (lua_istable(L, -1))
    export_names(L, lua_gettop(L));
  if (lua_getfield(L, -1, "load_plugins") == LUA_TFUNCTION) {
    /* a plugin that fails is reported by load_plugins; sflua goes on */
    if (docall(L, 0, 0) != LUA_OK) report(L, LUA_ERRRUN);
    export_names(L, lua_gettop(L));  /* the plugins' layers too */
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);  /* remove module */
  return LUA_OK;
}


static int setup_stackforge (lua_State *L, int noenv) {
  push_stdlib_dir(L, noenv);
  if (lua_isstring(L, -1))
    prepend_path(L, lua_tostring(L, -1));
  lua_pop(L, 1);  /* remove directory */
  preload_core(L);
  return load_stackforge(L);
}

/* }================================================================== */


/*
** {==================================================================
** Line reading and history
** ===================================================================
*/

/* results of reading a line */
#define READ_EOF     0
#define READ_LINE    1
#define READ_CANCEL  2  /* Ctrl-C at the prompt */

/* results of reading a chunk, besides the 'lua_load' statuses */
#define CHUNK_EOF     (-1)
#define CHUNK_CANCEL  (-2)

static char *rl_line;      /* line handed over by readline's callback */
static int rl_got_line;    /* did the callback run? */


static char *history_file_name (void) {
  const char *env = getenv("SFLUA_HISTORY");
  const char *home = getenv("HOME");
  char *path;
  size_t n;
  if (env != NULL && env[0] != '\0') return strdup(env);
  if (home == NULL || home[0] == '\0') return NULL;
  n = strlen(home) + sizeof("/" SFLUA_HISTFILE);
  path = (char *)malloc(n);
  if (path != NULL) snprintf(path, n, "%s/%s", home, SFLUA_HISTFILE);
  return path;
}


/*
** A multi-line entry is one history entry, also in the file: each entry
** there starts with a "#<time>" line, and readline reads the lines up
** to the next one back as a single entry (bash's 'lithist' does so).
*/
static void init_history (void) {
  int fd;
  using_history();
  stifle_history(SFLUA_HISTSIZE);
  history_comment_char = '#';
  history_write_timestamps = 1;
  history_path = history_file_name();
  if (history_path == NULL) return;
  fd = open(history_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0) close(fd);  /* 'append_history' needs the file to exist */
  read_history(history_path);
  /* the last SFLUA_HISTSIZE entries, whole (truncating by lines could
     cut an entry); while sflua runs, entries are appended */
  write_history(history_path);
}


/*
** Saves a chunk as one history entry, as lua.c does: the line, or all
** the lines of a multi-line statement joined by newlines.
*/
static void save_chunk (const char *chunk) {
  if (!interactive || chunk[0] == '\0') return;
  add_history(chunk);
  if (history_path != NULL)
    append_history(1, history_path);
}


static void init_readline (lua_State *L) {
  rl_readline_name = "sflua";  /* for $if sflua in ~/.inputrc */
  rl_instream = stdin;
  rl_outstream = stdout;
  rl_catch_signals = 0;  /* SIGINT is ours: see 'prompt_sigint' */
  sflua_init_completion(L);
  init_history();
}


static void on_line (char *line) {
  rl_line = line;  /* NULL at EOF */
  rl_got_line = 1;
  rl_callback_handler_remove();  /* or readline prompts again at once */
}


/*
** Ctrl-C at the prompt: forget what was typed, go to a fresh line.
*/
static void cancel_line (void) {
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_replace_line("", 0);
  rl_echo_signal_char(SIGINT);
  rl_crlf();
  rl_callback_handler_remove();
}


/*
** Ctrl-Z at the prompt: hand the shell a sane terminal, stop, and take
** the terminal back (redrawing the line) when continued by 'fg'.
*/
static void suspend (void) {
  struct sigaction handler;
  sigset_t tstp;
  sigemptyset(&tstp);
  sigaddset(&tstp, SIGTSTP);
  prompt_suspended = 0;
  rl_cleanup_after_signal();  /* terminal as it was before readline */
  setsignal(SIGTSTP, SIG_DFL, &handler);
  raise(SIGTSTP);  /* pending, as SIGTSTP is blocked here */
  sigprocmask(SIG_UNBLOCK, &tstp, NULL);  /* stops until continued */
  sigprocmask(SIG_BLOCK, &tstp, NULL);
  sigaction(SIGTSTP, &handler, NULL);
  rl_reset_after_signal();  /* terminal as readline wants it */
  rl_forced_update_display();
}


/*
** Reads a line with readline's callback interface, so that Ctrl-C and
** Ctrl-Z at the prompt are seen here, in normal code: SIGINT and SIGTSTP
** are blocked except inside 'pselect', and the handlers only set flags.
*/
static int tty_readline (const char *prompt, char **line) {
  int status = -1;
  int fd = fileno(stdin);
  struct sigaction oldtstp;
  sigset_t sigs, oldmask, waitmask;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTSTP);
  sigprocmask(SIG_BLOCK, &sigs, &oldmask);
  waitmask = oldmask;
  sigdelset(&waitmask, SIGINT);
  sigdelset(&waitmask, SIGTSTP);
  sigaction(SIGTSTP, NULL, &oldtstp);
  if (oldtstp.sa_handler != SIG_IGN)  /* no job control: leave it ignored */
    setsignal(SIGTSTP, prompt_sigtstp, NULL);
  prompt_interrupted = prompt_suspended = 0;
  rl_got_line = 0;
  rl_line = NULL;
  rl_callback_handler_install(prompt, on_line);
  while (status < 0) {
    fd_set fds;
    int n, err;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    n = pselect(fd + 1, &fds, NULL, NULL, NULL, &waitmask);
    err = errno;  /* before 'suspend' changes it */
    if (prompt_suspended)
      suspend();
    if (prompt_interrupted) {
      cancel_line();
      status = READ_CANCEL;
    }
    else if (n < 0) {
      if (err != EINTR) status = READ_EOF;  /* EINTR: signals, SIGWINCH */
    }
    else if (n > 0) {
      rl_callback_read_char();
      if (rl_got_line) status = (rl_line != NULL) ? READ_LINE : READ_EOF;
    }
  }
  rl_callback_handler_remove();  /* terminal back to normal for the chunk */
  sigaction(SIGTSTP, &oldtstp, NULL);
  sigprocmask(SIG_SETMASK, &oldmask, NULL);
  *line = (status == READ_LINE) ? rl_line : NULL;
  if (status != READ_LINE) free(rl_line);
  return status;
}


/*
** Without a terminal: plain prompt and 'getline', as lua.c does.
*/
static int plain_readline (const char *prompt, char **line) {
  size_t cap = 0;
  ssize_t n;
  *line = NULL;
  prompt_interrupted = 0;
  fputs(prompt, stdout);
  fflush(stdout);
  n = getline(line, &cap, stdin);
  if (n < 0) {
    free(*line);
    *line = NULL;
    if (prompt_interrupted) {
      clearerr(stdin);
      fputc('\n', stdout);
      return READ_CANCEL;
    }
    return READ_EOF;
  }
  if (n > 0 && (*line)[n - 1] == '\n')  /* line ends with newline? */
    (*line)[n - 1] = '\0';  /* remove it */
  return READ_LINE;
}


/*
** Returns the string to be used as a prompt by the interpreter. Leave
** that string (or nil, if using the default value) on the stack, to keep
** it anchored.
*/
static const char *get_prompt (lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TSTRING)
    return lua_tostring(L, -1);
  return (firstline ? SFLUA_PROMPT : SFLUA_PROMPT2);
}


/*
** Prompt the user, read a line, and push it into the Lua stack.
** Returns READ_LINE, or READ_EOF / READ_CANCEL with nothing pushed.
*/
static int pushline (lua_State *L, int firstline) {
  char *b;
  const char *prmt = get_prompt(L, firstline);
  int status = interactive ? tty_readline(prmt, &b)
                           : plain_readline(prmt, &b);
  lua_pop(L, 1);  /* remove prompt */
  if (status != READ_LINE) return status;
  if (firstline && b[0] == '=')  /* for compatibility with 5.2, ... */
    lua_pushfstring(L, "return %s", b + 1);  /* change '=' to 'return' */
  else
    lua_pushstring(L, b);
  free(b);
  return READ_LINE;
}


/* mark in error messages for incomplete statements */
#define EOFMARK   "<eof>"
#define marklen   (sizeof(EOFMARK)/sizeof(char) - 1)


/*
** Check whether 'status' signals a syntax error and the error
** message at the top of the stack ends with the above mark for
** incomplete statements.
*/
static int incomplete (lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= marklen && strcmp(msg + lmsg - marklen, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;  /* else... */
}


/*
** Try to compile line on the stack as 'return <line>;'; on return, stack
** has either compiled chunk or original line (if compilation failed).
*/
static int addreturn (lua_State *L) {
  const char *line = lua_tostring(L, -1);  /* original line */
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);  /* remove modified line */
    save_chunk(line);
  }
  else
    lua_pop(L, 2);  /* pop result from 'luaL_loadbuffer' and modified line */
  return status;
}


/*
** Read multiple lines until a complete Lua statement
*/
static int multiline (lua_State *L) {
  for (;;) {  /* repeat until gets a complete statement */
    size_t len;
    const char *chunk = lua_tolstring(L, 1, &len);  /* get what it has */
    int status = luaL_loadbuffer(L, chunk, len, "=stdin");  /* try it */
    if (!incomplete(L, status)) {
      save_chunk(chunk);
      return status;  /* compiled, or a real error */
    }
    status = pushline(L, 0);
    if (status != READ_LINE) {
      save_chunk(chunk);  /* what was typed can be recalled and fixed */
      return (status == READ_EOF) ? CHUNK_EOF : CHUNK_CANCEL;
    }
    lua_pushliteral(L, "\n");  /* add newline... */
    lua_insert(L, -2);  /* ...between the two lines */
    lua_concat(L, 3);  /* join them */
  }
}


/*
** Read a line and try to load (compile) it first as an expression (by
** adding "return " in front of it) and second as a statement. Return
** the final status of load/call with the resulting function (if any)
** in the top of the stack, or CHUNK_EOF / CHUNK_CANCEL.
*/
static int loadline (lua_State *L) {
  int status;
  lua_settop(L, 0);
  status = pushline(L, 1);
  if (status != READ_LINE)
    return (status == READ_EOF) ? CHUNK_EOF : CHUNK_CANCEL;
  if ((status = addreturn(L)) != LUA_OK)  /* 'return ...' did not work? */
    status = multiline(L);  /* try as command, maybe with continuation lines */
  if (status < 0) {  /* nothing to run */
    lua_settop(L, 0);
    return status;
  }
  lua_remove(L, 1);  /* remove line from the stack */
  return status;
}


/*
** Prints every argument, tab-separated, each as 'tostring' shows it
** (our packets' __tostring gives a one-line summary).
*/
static int print_values (lua_State *L) {
  int n = lua_gettop(L);
  int i;
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, i, &len);
    if (i > 1) fputc('\t', stdout);
    fwrite(s, 1, len, stdout);
    lua_pop(L, 1);  /* remove the string */
  }
  fputc('\n', stdout);
  fflush(stdout);
  return 0;
}


/*
** Prints (calling 'print_values') any values on the stack
*/
static void l_print (lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {  /* any result to be printed? */
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_pushcfunction(L, print_values);
    lua_insert(L, 1);
    report(L, docall(L, n, 0));
  }
}


static void print_banner (void) {
  printf("sflua %s (%s)  Tab completes, Ctrl-D exits\n",
         SF_VERSION, LUA_RELEASE);
  fflush(stdout);
}


/*
** Do the REPL: repeatedly read (load) a line, evaluate (call) it, and
** print any results.
*/
static void doREPL (lua_State *L) {
  int status;
  struct sigaction oldact;
  const char *oldprogname = progname;
  progname = NULL;  /* no 'progname' on errors in interactive mode */
  interactive = isatty(STDIN_FILENO);
  if (interactive) init_readline(L);
  print_banner();
  setsignal(SIGINT, prompt_sigint, &oldact);  /* Ctrl-C must not kill us */
  while ((status = loadline(L)) != CHUNK_EOF) {
    if (status == CHUNK_CANCEL) continue;  /* fresh prompt */
    if (status == LUA_OK)
      status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) l_print(L);
    else report(L, status);
  }
  sigaction(SIGINT, &oldact, NULL);
  lua_settop(L, 0);  /* clear stack */
  fputc('\n', stdout);
  fflush(stdout);
  progname = oldprogname;
}

/* }================================================================== */


/*
** `sflua -r capture [-Y filter] [-T fields -e ...]`: tshark's options,
** handled by stackforge.cli (docs/filters.md); `sflua -m script.lua`:
** the mapper, stackforge.mapper (docs/scale.md).  module.main gets the
** arguments after argv[first - 1]; pushes its result.
*/
static int run_module (lua_State *L, const char *module, int argc, char **argv,
                       int first) {
  int i;
  luaL_openlibs(L);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (setup_stackforge(L, 0) != LUA_OK) return 0;
  lua_getglobal(L, "require");
  lua_pushstring(L, module);
  if (docall(L, 1, 1) != LUA_OK) return report(L, LUA_ERRRUN), 0;
  lua_getfield(L, -1, "main");
  lua_createtable(L, argc, 0);
  for (i = first; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - first + 1);
  }
  if (docall(L, 1, 1) != LUA_OK) return report(L, LUA_ERRRUN), 0;
  return 1;  /* main's boolean */
}


/*
** Main body of the interpreter (to be called in protected mode).
** Reads the options and handles them all.
*/
static int pmain (lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, &script);
  int optlim = (script > 0) ? script : argc; /* first argv not an option */
  luaL_checkversion(L);  /* check that interpreter has correct version */
  if (argc > 1 && strcmp(argv[1], "-r") == 0)  /* reading a capture, as tshark */
    return run_module(L, "stackforge.cli", argc, argv, 1);
  if (argc > 1 && strcmp(argv[1], "-m") == 0)  /* a mapper: paths in, JSONL out */
    return run_module(L, "stackforge.mapper", argc, argv, 2);
  if (args == has_error) {  /* bad arg? */
    print_usage(stderr, argv[script]);  /* 'script' has index of bad arg. */
    return 0;
  }
  if (args & has_h) {
    print_usage(stdout, NULL);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & has_E) {  /* option '-E'? */
    lua_pushboolean(L, 1);  /* signal for libraries to ignore env. vars. */
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);  /* open standard libraries */
  createargtable(L, argv, argc, script);  /* create table 'arg' */
  lua_gc(L, LUA_GCRESTART);  /* start GC... */
  lua_gc(L, LUA_GCGEN, 0, 0);  /* ...in generational mode */
  if (setup_stackforge(L, args & has_E) != LUA_OK)
    return 0;  /* error running 'require "stackforge"' */
  if (!(args & has_E)) {  /* no option '-E'? */
    if (handle_luainit(L) != LUA_OK)  /* run LUA_INIT */
      return 0;  /* error running LUA_INIT */
  }
  if (args & has_v)  /* option '-v'? */
    print_version();
  if (!runargs(L, argv, optlim))  /* execute arguments -e and -l */
    return 0;  /* something failed */
  if (script > 0) {  /* execute main script (if there is one) */
    if (handle_script(L, argv + script) != LUA_OK)
      return 0;  /* interrupt in case of error */
  }
  if (!(args & has_i) && (script > 0 || (args & has_e)) && run_loop(L) != LUA_OK)
    return 0;  /* a callback's error */
  if (args & has_i)  /* -i option? */
    doREPL(L);  /* do read-eval-print loop */
  else if (script < 1 && !(args & (has_e | has_v))) { /* no active option? */
    if (isatty(STDIN_FILENO))  /* running in interactive mode? */
      doREPL(L);  /* do read-eval-print loop */
    else if (dofile(L, NULL) != LUA_OK)  /* executes stdin as a file */
      return 0;
  }
  lua_pushboolean(L, 1);  /* signal no errors */
  return 1;
}


int main (int argc, char **argv) {
  int status, result;
  lua_State *L = luaL_newstate();  /* create state */
  if (L == NULL) {
    l_message(argv[0], "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);  /* stop GC while building state */
  lua_pushcfunction(L, &pmain);  /* to call 'pmain' in protected mode */
  lua_pushinteger(L, argc);  /* 1st argument */
  lua_pushlightuserdata(L, argv); /* 2nd argument */
  status = lua_pcall(L, 2, 1, 0);  /* do the call */
  result = lua_toboolean(L, -1);  /* get result */
  report(L, status);
  lua_close(L);
  free(history_path);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
