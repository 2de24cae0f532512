/*
 * The SSH transport's parsers: host URLs and ssh_config(5) entries, and
 * the tar stream that carries a workspace (unpacked by the real tar).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "run.h"
#include "ssh.h"
#include "ssh-internal.h"
#include "tar.h"
#include "unit.h"

static void url_ok(const char *url, const char *user, const char *host, int port)
{
	struct ssh_target t;
	struct strbuf why = STRBUF_INIT;
	int ret = ssh_url_parse(url, &t, &why);

	check_int(ret, ==, 0, "'%s' parses (%s)", url, why.buf);
	if (!ret) {
		check_str(t.user ? t.user : "(none)", user, "'%s': user", url);
		check_str(t.host, host, "'%s': host", url);
		check_int(t.port, ==, port, "'%s': port", url);
	}
	ssh_target_clear(&t);
	strbuf_release(&why);
}

static void url_bad(const char *url, const char *reason)
{
	struct ssh_target t;
	struct strbuf why = STRBUF_INIT;

	check_int(ssh_url_parse(url, &t, &why), ==, -1, "'%s' is refused", url);
	TEST(strstr(why.buf, reason) != NULL, "'%s': '%s' says '%s'", url, why.buf, reason);
	strbuf_release(&why);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
}

/* A command for the one shell, and its input in chunks (NULL-ended). */
static void mux_frame(struct strbuf *in, const char *cmd, ...)
{
	const char *chunk;
	va_list ap;

	strbuf_addf(in, "%zu\n%s", strlen(cmd), cmd);
	va_start(ap, cmd);
	while ((chunk = va_arg(ap, const char *)))
		strbuf_addf(in, "%zu\n%s", strlen(chunk), chunk);
	va_end(ap);
	strbuf_addstr(in, "0\n");
}

/*
 * The shell for many commands, run here by sh as sshd would run it: each
 * command's status and its two outputs, framed, in turn; with input and
 * without; a program that is not there.
 */
static void mux_script_replies(void)
{
	struct child c = CHILD_INIT;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	const char *expect =
		"git-sand-mux 1\n"
		"0 20 0\n     1\tab\n     2\tcd\n"
		"3 3 3\nouterr"
		"0 0 0\n"
		"0 19 0\nxyz[two  words]\n[]\n"
		"127 0 ";

	mux_frame(&in, "'cat' '-n'", "ab\n", "cd\n", NULL);
	mux_frame(&in, "'sh' '-c' 'printf out; printf err >&2; exit 3'", NULL);
	mux_frame(&in, "'true'", NULL);
	mux_frame(&in, "'sh' '-c' 'cat; echo \"[$1]\"; echo \"[$2]\"' 'sh' 'two  words' ''",
		  "x", "yz", NULL);
	mux_frame(&in, "'git-sand-no-such-program'", NULL);
	argv_pushl(&c.args, "sh", "-c", ssh_mux_script, NULL);
	c.in = in.buf;
	c.in_len = in.len;
	c.out = &out;
	check_int(run_child(&c), ==, 0, "the shell for many commands ends with its input");
	/* Where head -c reads more than asked (busybox's), it is not used. */
	if (!strcmp(out.buf, "git-sand-mux no\n"))
		unit_skip("this machine's head -c reads more than it is asked for");
	else
		TEST(out.len > strlen(expect) && !strncmp(out.buf, expect, strlen(expect)),
		     "its replies, framed: got '%s'", out.buf);
	child_clear(&c);
	strbuf_release(&in);
	strbuf_release(&out);
}

/*
 * A command in the background of the shell: the commands after it run
 * meanwhile (the one in the background waits for a file the next one
 * makes, for 5 s at most), and "wait" gets its reply in the usual form.
 * A second "wait", or "&" while one runs, ends the shell.
 */
static void mux_script_background(const char *tmp)
{
	struct child c = CHILD_INIT;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, cmd = STRBUF_INIT;
	const char *expect =
		"git-sand-mux 1\n"
		"0 3 0\nfg\n"
		"4 7 2\nwaited\nBE";

	strbuf_addf(&cmd, "&'sh' '-c' 'i=0; until test -e \"$1\"; do "
		    "test $i -lt 500 || exit 9; i=$((i + 1)); sleep 0.01; done; "
		    "echo waited; printf BE >&2; exit 4' 'sh' '%s/go'", tmp);
	mux_frame(&in, cmd.buf, NULL);
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "'sh' '-c' 'touch \"$1\" && echo fg' 'sh' '%s/go'", tmp);
	mux_frame(&in, cmd.buf, NULL);
	mux_frame(&in, "wait", NULL);
	mux_frame(&in, "wait", NULL);
	mux_frame(&in, "'echo' 'not run'", NULL);
	argv_pushl(&c.args, "sh", "-c", ssh_mux_script, NULL);
	c.in = in.buf;
	c.in_len = in.len;
	c.out = &out;
	check_int(run_child(&c), ==, 1, "a wait with nothing in the background ends the shell");
	if (!strcmp(out.buf, "git-sand-mux no\n"))
		unit_skip("this machine's head -c reads more than it is asked for");
	else
		TEST(!strcmp(out.buf, expect), "the background's reply after the next command's: "
		     "got '%s'", out.buf);
	child_clear(&c);

	strbuf_reset(&in);
	strbuf_reset(&out);
	mux_frame(&in, "&'sleep' '0.1'", NULL);
	mux_frame(&in, "&'true'", NULL);
	mux_frame(&in, "'echo' 'not run'", NULL);
	argv_pushl(&c.args, "sh", "-c", ssh_mux_script, NULL);
	c.in = in.buf;
	c.in_len = in.len;
	c.out = &out;
	check_int(run_child(&c), ==, 1, "a second command in the background ends the shell");
	TEST(!strstr(out.buf, "not run"), "nothing after it runs: got '%s'", out.buf);
	child_clear(&c);

	/* Its input closed, the shell waits for the one in the background. */
	strbuf_reset(&in);
	strbuf_reset(&out);
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "&'sh' '-c' 'sleep 0.2; echo >\"$1\"' 'sh' '%s/done'", tmp);
	mux_frame(&in, cmd.buf, NULL);
	argv_pushl(&c.args, "sh", "-c", ssh_mux_script, NULL);
	c.in = in.buf;
	c.in_len = in.len;
	c.out = &out;
	check_int(run_child(&c), ==, 0, "the shell ends with its input");
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "%s/done", tmp);
	TEST(access(cmd.buf, F_OK) == 0, "after the command in the background");
	child_clear(&c);
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&cmd);
}

int main(void)
{
	const char *tmp = unit_tmpdir();
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;

	mux_script_replies();
	mux_script_background(tmp);
	url_ok("ssh://build", "(none)", "build", 0);
	url_ok("ssh://me@build.example.com:2222", "me", "build.example.com", 2222);
	url_ok("ssh://me@build/", "me", "build", 0);
	url_ok("ssh://[::1]:22", "(none)", "::1", 22);
	url_ok("build", "(none)", "build", 0);
	url_bad("ssh://build/some/path", "no path");
	url_bad("ssh://build:0", "invalid port");
	url_bad("ssh://build:65536", "invalid port");
	url_bad("ssh://build:22x", "invalid port");
	url_bad("ssh://-oProxyCommand=x", "invalid host");
	url_bad("ssh://a;b", "invalid host");
	url_bad("ssh://$(id)@build", "invalid user");
	url_bad("ssh://-l@build", "invalid user");
	url_bad("ssh://[::1", "unclosed");

	{
		struct ssh_target t;
		struct strbuf why = STRBUF_INIT;

		strbuf_addf(&path, "%s/config", tmp);
		write_text(path.buf,
			   "# comment\n"
			   "Host other\n  HostName wrong\n"
			   "Host build !nope\n"
			   "  HostName %h.example.com\n"
			   "  Port=2200\n"
			   "  User builder\n"
			   "  IdentityFile ~/.ssh/build_key\n"
			   "Match all\n  Port 1\n"
			   "Host *\n  User fallback\n  Port 2201\n");
		setenv("HOME", "/home/u", 1);
		ssh_url_parse("ssh://build", &t, &why);
		check_int(ssh_config_apply(&t, path.buf), ==, 0, "the config is read");
		check_str(t.hostname, "build.example.com", "HostName with %%h");
		check_int(t.port, ==, 2200, "Port with '='");
		check_str(t.user, "builder", "User: the first one wins");
		check_str(t.identity_file, "/home/u/.ssh/build_key", "IdentityFile with ~");
		ssh_target_clear(&t);

		ssh_url_parse("ssh://root@build:22", &t, &why);
		ssh_config_apply(&t, path.buf);
		check_str(t.user, "root", "the URL's user wins over the config");
		check_int(t.port, ==, 22, "the URL's port wins over the config");
		strbuf_reset(&out);
		ssh_target_url(&t, 1, &out);
		check_str(out.buf, "ssh://root@build.example.com", "resolved URL, port 22 left out");
		ssh_target_clear(&t);

		ssh_url_parse("ssh://nope", &t, &why);
		ssh_config_apply(&t, path.buf);
		check_str(t.hostname, "nope", "a negated pattern does not match");
		check_str(t.user, "fallback", "Host * applies");
		check_int(t.port, ==, 2201, "Host *'s port");
		ssh_target_clear(&t);

		{
			/* Include: relative to ~/.ssh, globs, inside a Host block only. */
			struct strbuf home = STRBUF_INIT, f = STRBUF_INIT;

			strbuf_addf(&home, "%s/home", tmp);
			strbuf_addf(&f, "%s/.ssh/conf.d", home.buf);
			mkdir_p(f.buf, 0700);
			strbuf_addstr(&f, "/10-build.conf");
			write_text(f.buf, "Host inc\n  Port 2300\n");
			strbuf_reset(&f);
			strbuf_addf(&f, "%s/.ssh/conf.d/20-other.conf", home.buf);
			write_text(f.buf, "Host *\n  User included\n");
			strbuf_reset(&f);
			strbuf_addf(&f, "%s/.ssh/loop", home.buf);
			write_text(f.buf, "Include loop\n");
			strbuf_reset(&f);
			strbuf_addf(&f, "%s/.ssh/config", home.buf);
			write_text(f.buf, "Host nomatch\n  Include ~/.ssh/nothing-here\n"
				   "Host *\n  Include conf.d/*.conf\n");
			setenv("HOME", home.buf, 1);
			ssh_url_parse("ssh://inc", &t, &why);
			check_int(ssh_config_apply(&t, f.buf), ==, 0, "a config with Include is read");
			check_int(t.port, ==, 2300, "a setting from an included file");
			check_str(t.user, "included", "from the second file of the glob");
			ssh_target_clear(&t);

			strbuf_reset(&f);
			strbuf_addf(&f, "%s/.ssh/loop", home.buf);
			ssh_url_parse("ssh://inc", &t, &why);
			check_int(ssh_config_apply(&t, f.buf), ==, -1, "an Include loop is an error");
			ssh_target_clear(&t);
			setenv("HOME", "/home/u", 1);
			strbuf_release(&home);
			strbuf_release(&f);
		}

		ssh_url_parse("ssh://x", &t, &why);
		check_int(ssh_config_apply(&t, "/nonexistent/config"), ==, 0, "no config: defaults");
		check_int(t.port, ==, 22, "default port");
		ssh_target_clear(&t);
		strbuf_release(&why);
	}

	{
		/* A tree with a long name, a link, modes and an empty directory. */
		struct tar_stream tar = TAR_STREAM_INIT;
		struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, archive = STRBUF_INIT;
		struct strbuf longname = STRBUF_INIT;
		struct child c = CHILD_INIT;
		int more;
		FILE *fp;

		strbuf_addf(&src, "%s/src", tmp);
		strbuf_addf(&dst, "%s/dst", tmp);
		mkdir_p(src.buf, 0755);
		mkdir(dst.buf, 0755);
		strbuf_addf(&path, "%s/exe", src.buf);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/exe", src.buf);
		write_text(path.buf, "#!/bin/sh\n");
		chmod(path.buf, 0755);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/empty", src.buf);
		mkdir(path.buf, 0700);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/link", src.buf);
		symlink("exe", path.buf);
		for (int i = 0; i < 30; i++)
			strbuf_addstr(&longname, "dir-name/");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", src.buf, longname.buf);
		mkdir_p(path.buf, 0755);
		strbuf_addstr(&path, "file");
		write_text(path.buf, "deep\n");

		check_int(tar_add_tree(&tar, src.buf, "top", NULL, NULL), ==, 0, "the tree is listed");
		tar_add_data(&tar, "top/memory", "in memory\n", 10, 0600);
		while ((more = tar_stream_feed(&tar, &archive)) > 0)
			;
		check_int(more, ==, 0, "the stream ends");
		TEST(archive.len % 10240 == 0 || archive.len % 512 == 0, "whole blocks");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/a.tar", tmp);
		fp = fopen(path.buf, "w");
		fwrite(archive.buf, 1, archive.len, fp);
		fclose(fp);
		argv_pushl(&c.args, "tar", "-x", "-f", path.buf, "-C", dst.buf, NULL);
		check_int(run_child(&c), ==, 0, "tar unpacks it");
		child_clear(&c);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/top/%sfile", dst.buf, longname.buf);
		strbuf_reset(&out);
		check_int(strbuf_read_file(&out, path.buf), ==, 0, "a name of %zu bytes survives",
			  longname.len + 8);
		check_str(out.buf, "deep\n", "with its content");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/top/exe", dst.buf);
		TEST(access(path.buf, X_OK) == 0, "the executable bit survives");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/top/link", dst.buf);
		strbuf_reset(&out);
		strbuf_grow(&out, 64);
		TEST(readlink(path.buf, out.buf, 63) == 3 && !strncmp(out.buf, "exe", 3),
		     "a link stays a link");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/top/empty", dst.buf);
		TEST(access(path.buf, F_OK) == 0, "an empty directory is there");
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/top/memory", dst.buf);
		strbuf_reset(&out);
		strbuf_read_file(&out, path.buf);
		check_str(out.buf, "in memory\n", "content from memory");
		tar_stream_clear(&tar);
		strbuf_release(&src);
		strbuf_release(&dst);
		strbuf_release(&archive);
		strbuf_release(&longname);
	}
	strbuf_release(&path);
	strbuf_release(&out);
	return unit_done();
}
