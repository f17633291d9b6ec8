#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>

/* Readline's settings are global variables; Swift 6 refuses to touch imported mutable globals from
   concurrent code, so snapctl sets them through these functions, always from the line editor's thread. */

/* Readline as snapctl uses it: no signal handlers of its own (snapctl turns SIGINT into "clear the line"
   or "kill the running statement"), the given completion function, and the terminal on stdin/stdout. */
static inline void snapctl_rl_configure(rl_completion_func_t *completer) {
    rl_readline_name = "snapctl";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_instream = stdin;
    rl_outstream = stdout;
    rl_attempted_completion_function = completer;
    /* After the inputrc files are read (rl_initialize), so that this wins: pasted lines then arrive one by
       one, as typed, and a pasted script of commands and SQL reads as such. (Bracketed paste would also
       end each line with a carriage return of its own.) */
    rl_initialize();
    rl_variable_bind("enable-bracketed-paste", "off");
}

/* Whether readline should skip its own file-name completion after the completion function ran. */
static inline void snapctl_rl_set_completion_over(int over) { rl_attempted_completion_over = over; }

/* The line being edited. */
static inline const char *snapctl_rl_line_buffer(void) { return rl_line_buffer; }

/* Forgets the line being edited (Ctrl-C). */
static inline void snapctl_rl_discard_line(void) {
    rl_replace_line("", 0);
    rl_point = 0;
    rl_mark = 0;
}

/* The terminal's size changed: readline reads it again. */
static inline void snapctl_rl_resize(void) { rl_resize_terminal(); }

/* The newest history entry, or NULL. */
static inline const char *snapctl_history_last(void) {
    HIST_ENTRY *entry = history_get(history_base + history_length - 1);
    return entry ? entry->line : NULL;
}
