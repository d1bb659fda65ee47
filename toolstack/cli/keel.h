/*
 * Shared definitions of the `keel` toolstack command: its version, exit
 * codes and the command-table entry type. Each subcommand group lives in its
 * own cmd_*.c file and exports its entry points here; keel.c holds the table
 * that maps command names to them.
 */
#ifndef KEEL_TOOLSTACK_KEEL_H
#define KEEL_TOOLSTACK_KEEL_H

#include <stddef.h>
#include <stdint.h>

#ifndef KEEL_TOOLSTACK_VERSION
#define KEEL_TOOLSTACK_VERSION "0.1.0"
#endif

/* Process exit codes (documented in docs/toolstack.md). */
#define KEEL_EXIT_OK 0    /* success */
#define KEEL_EXIT_FAIL 1  /* the operation failed (no Keel, hypercall error) */
#define KEEL_EXIT_USAGE 2 /* bad command line */

/* One subcommand: `keel <name> [args]`. */
struct keel_cmd {
	const char *name;    /* word typed after `keel` */
	const char *summary; /* one line, shown by `keel --help` */
	const char *usage;   /* full help text, shown by `keel help <name>` */
	/* Runs the command; argv[0] is the command name. Returns an exit code. */
	int (*run)(int argc, char **argv);
};

/*
 * Print the full help of @cmd to stdout (the text `keel help <cmd>` and
 * `keel <cmd> --help` show). Defined in keel.c.
 */
void keel_print_cmd_help(const struct keel_cmd *cmd);

/*
 * Print "keel: <cmd>: <what> '<arg>'; see 'keel help <cmd>'" (without the
 * quoted part when @arg is NULL) to stderr. Returns KEEL_EXIT_USAGE.
 */
int keel_usage_error(const char *cmd, const char *what, const char *arg);

#define KEEL_ARGS_HELP (-1) /* keel_domain_value_args printed the help */

/*
 * Parse the command line of @entry: <domain> <value> [-t SECONDS] (-t only
 * if @wait_s is not NULL; 0 to 3600), or -h/--help anywhere (the help is
 * printed). @value_word names the value in the usage error ("<MiB>").
 * Sets *@dom and *@value to the words. Returns KEEL_EXIT_OK,
 * KEEL_EXIT_USAGE (reported) or KEEL_ARGS_HELP.
 */
int keel_domain_value_args(const struct keel_cmd *entry, int argc, char **argv,
			   const char *value_word, const char **dom, const char **value,
			   uint32_t *wait_s);

/* cmd_info.c: `keel info`. */
extern const struct keel_cmd cmd_info_entry;

/* cmd_domain.c: domain lifecycle. */
extern const struct keel_cmd cmd_create_entry;
extern const struct keel_cmd cmd_save_entry;
extern const struct keel_cmd cmd_restore_entry;
extern const struct keel_cmd cmd_clone_entry;

/* cmd_migrate.c: `keel migrate` and `keel migrate-receive`. */
extern const struct keel_cmd cmd_migrate_entry;
extern const struct keel_cmd cmd_migrate_receive_entry;

struct config;
/* A new domain @domid built from @cfg is running: register its names for
 * keel netd, save its config and start its monitor (warnings on failure
 * are prefixed "keel: @cmd:"; cli/cmd_domain.c). */
void cmd_domain_adopt(const struct config *cfg, uint32_t domid, const char *cmd);
extern const struct keel_cmd cmd_pause_entry;
extern const struct keel_cmd cmd_unpause_entry;
extern const struct keel_cmd cmd_destroy_entry;
extern const struct keel_cmd cmd_shutdown_entry;
extern const struct keel_cmd cmd_reboot_entry;

/* cmd_list.c: `keel list` and `keel uptime`. */
extern const struct keel_cmd cmd_list_entry;
extern const struct keel_cmd cmd_uptime_entry;

/* cmd_sched.c: `keel sched-credit` and `keel vcpu-list`. */
extern const struct keel_cmd cmd_sched_entry;
extern const struct keel_cmd cmd_vcpu_list_entry;
extern const struct keel_cmd cmd_vcpu_pin_entry;
extern const struct keel_cmd cmd_vcpu_set_entry;

/* cmd_mem.c: `keel mem-set` and `keel mem-max`. */
extern const struct keel_cmd cmd_mem_set_entry;
extern const struct keel_cmd cmd_mem_max_entry;

/* cmd_rename.c: `keel rename`. */
extern const struct keel_cmd cmd_rename_entry;

struct keel_dominfo;
/*
 * Rename domain @d (now called @old) to @new_name, with its saved config,
 * log and DNS name; prints what it did or why not (as "keel: rename:").
 * Returns KEEL_EXIT_OK or KEEL_EXIT_FAIL.
 */
int cmd_rename_domain(const struct keel_dominfo *d, const char *old, const char *new_name);

/* cmd_console.c: `keel console`. */
extern const struct keel_cmd cmd_console_entry;

/* cmd_netd.c: `keel netd`, the guests' DHCP and DNS server. */
extern const struct keel_cmd cmd_netd_entry;

/* cmd_top.c: `keel top`, the resource monitor. */
extern const struct keel_cmd cmd_top_entry;

/* cmd_kiosk.c: `keel kiosk`. */
extern const struct keel_cmd cmd_kiosk_entry;

/* cmd_dashboard.c: `keel dashboard`. */
extern const struct keel_cmd cmd_dashboard_entry;

/*
 * Where the running dashboard is: its URLs, the uplinks' first and then
 * keel0's ("http://10.0.2.15:8080/ (eth0), ..."), into @urls (@len
 * bytes) and its control token ("1234-5678") into @token (@tlen bytes).
 * Returns 0, or -ENOENT when no dashboard runs.
 */
int cmd_dashboard_where(char *urls, size_t len, char *token, size_t tlen);

/* cmd_exits.c: `keel exits`, the exit profile. */
extern const struct keel_cmd cmd_exits_entry;

/* cmd_dmesg.c: `keel dmesg`, the hypervisor's log. */
extern const struct keel_cmd cmd_dmesg_entry;

/* cmd_starter.c: `keel starter`, the guest starter. */
extern const struct keel_cmd cmd_starter_entry;

/*
 * Attach the console of domain @domid called @name to stdin/stdout (raw
 * terminal mode if stdin is a tty) until Ctrl-], end of input, or the
 * domain goes away. Used by `keel console` and `keel create -c`.
 * Returns an exit code (KEEL_EXIT_*).
 */
int cmd_console_attach(uint32_t domid, const char *name);

#endif /* KEEL_TOOLSTACK_KEEL_H */
