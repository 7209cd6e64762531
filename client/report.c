/*-------------------------------------------------------------------------
 *
 * report.c
 *	  Print the findings: like a compiler (text), as JSON, or as GitHub
 *	  Actions workflow commands that annotate the file and line.
 *
 * What is printed comes from files and from the server, and a file name,
 * an identifier or a message can hold any character.  Text output shows
 * control characters (the terminal's escape sequences among them) and
 * bytes that are not UTF-8 as escapes; JSON output is valid UTF-8, with
 * U+FFFD for such bytes; GitHub workflow commands escape what GitHub
 * reads as their end.  GitHub Actions also reads a workflow command from
 * any line of stdout or stderr that starts with "::": under it (the
 * GITHUB_ACTIONS environment variable set) the text report and any
 * message on stderr are printed with workflow commands stopped, behind
 * a random token, so that nothing a file or the server says can issue one.
 * JSON needs no stop: every line of it starts with "[", "]" or "{".
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/report.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include "client.h"
#include "common/logging.h"

static const char *const severity_names[] = {"block", "warn", "error", "unknown"};

/* ANSI colours of the severities, on a terminal only */
static const char *const severity_colors[] = {
	"\033[1;31m", "\033[1;33m", "\033[1;31m", "\033[1;36m"
};
#define BOLD	"\033[1m"
#define RESET	"\033[0m"

const char *
severity_name(Severity sev)
{
	return severity_names[sev];
}

/* ::stop-commands::<token> printed, and on which stream; else NULL */
static FILE *stopped_on;
static char stop_token[2 * 16 + 1];

static void
resume_workflow_commands(void)
{
	fflush(stdout);
	fflush(stderr);
	fprintf(stopped_on, "::%s::\n", stop_token);
	fflush(stopped_on);
}

/*
 * Under GitHub Actions, stop its workflow commands until the program
 * exits, before the first line that prints what files or the server say
 * (on stream): once, whatever calls it again
 */
void
stop_workflow_commands(FILE *stream)
{
	static bool starting = false;
	unsigned char bytes[16];
	int			fd;
	size_t		i;

	if (stopped_on != NULL || starting || getenv("GITHUB_ACTIONS") == NULL)
		return;
	starting = true;			/* an error below prints a message */
	fd = open("/dev/urandom", O_RDONLY, 0);
	if (fd < 0)
		fatal("could not open file \"%s\": %m", "/dev/urandom");
	if (read(fd, bytes, sizeof(bytes)) != (ssize_t) sizeof(bytes))
		fatal("could not read file \"%s\": %m", "/dev/urandom");
	close(fd);
	for (i = 0; i < sizeof(bytes); i++)
		snprintf(stop_token + 2 * i, 3, "%02x", bytes[i]);

	fflush(stdout);
	fprintf(stream, "::stop-commands::%s\n", stop_token);
	fflush(stream);
	stopped_on = stream;
	atexit(resume_workflow_commands);
}

/*
 * len bytes of s for a terminal or a log: a control character (but a tab)
 * as \xNN, a C1 control as \u0080..\u009f, a byte that is not UTF-8 as
 * \xNN; the rest as it is
 */
static void
put_text_n(const char *s, size_t len)
{
	const char *end = s + len;

	while (s < end && *s)
	{
		unsigned char c = (unsigned char) *s;
		int			clen = utf8_char_length(s);

		if (clen < 0 || s + clen > end)
		{
			printf("\\x%02X", c);
			s++;
		}
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
		{
			printf("\\x%02X", c);
			s++;
		}
		else if (c == 0xc2 && (unsigned char) s[1] < 0xa0)
		{
			printf("\\u%04X", (unsigned char) s[1]);
			s += 2;
		}
		else
		{
			fwrite(s, 1, clen, stdout);
			s += clen;
		}
	}
}

static void
put_text(const char *s)
{
	put_text_n(s, strlen(s));
}

/* n with thousands separators: 720000 -> 720,000 */
static void
print_count(long long n)
{
	char		digits[32];
	int			len,
				i;

	snprintf(digits, sizeof(digits), "%lld", n);
	len = (int) strlen(digits);
	for (i = 0; i < len; i++)
	{
		putchar(digits[i]);
		if (i < len - 1 && (len - 1 - i) % 3 == 0)
			putchar(',');
	}
}

/* Each line of text, indented */
static void
print_indented(const char *text, const char *indent)
{
	const char *p = text;

	while (*p)
	{
		size_t		len = strcspn(p, "\n");

		fputs(indent, stdout);
		put_text_n(p, len);
		putchar('\n');
		p += len;
		if (*p == '\n')
			p++;
	}
}

/*
 * path:line:col: block[create_index]: message (size, ~rows rows)
 *     detail
 *     safe SQL:
 *         step
 */
static void
print_text(const Report *report, bool color)
{
	int			i;

	for (i = 0; i < report->n; i++)
	{
		const Finding *f = &report->items[i];

		if (color)
			fputs(BOLD, stdout);
		put_text(f->migration->path);
		printf(":%d:%d:%s %s%s%s",
			   f->line, f->column,
			   color ? RESET : "",
			   color ? severity_colors[f->severity] : "",
			   severity_name(f->severity), color ? RESET : "");
		if (f->rule)
		{
			putchar('[');
			put_text(f->rule);
			putchar(']');
		}
		fputs(": ", stdout);
		put_text(f->message);
		if (f->size && (f->severity == SEV_BLOCK || f->severity == SEV_WARN))
		{
			fputs(" (", stdout);
			put_text(f->size);
			if (f->est_rows >= 0)
			{
				printf(", ~");
				print_count(f->est_rows);
				printf(f->est_rows == 1 ? " row" : " rows");
			}
			if (f->predicted_seconds >= 0)
				printf(", lock held about %.*f s", f->predicted_seconds < 10 ? 2 : 0,
					   f->predicted_seconds);
			printf(")");
		}
		printf("\n");
		if (f->detail)
			print_indented(f->detail, "    ");
		if (f->recipe && f->recipe[0])
		{
			printf("    safe way:\n");
			print_indented(f->recipe, "        ");
		}
		else if (f->hint)
			print_indented(f->hint, "    hint: ");
	}
	printf("checked %d file%s (%d statement%s): %d would be refused, %d warning%s, %d error%s, %d not judged\n",
		   report->files, report->files == 1 ? "" : "s",
		   report->statements, report->statements == 1 ? "" : "s",
		   report->count[SEV_BLOCK],
		   report->count[SEV_WARN], report->count[SEV_WARN] == 1 ? "" : "s",
		   report->count[SEV_ERROR], report->count[SEV_ERROR] == 1 ? "" : "s",
		   report->count[SEV_UNKNOWN]);
	if (report->sizes_from)
	{
		fputs("judged with ", stdout);
		put_text(report->sizes_from);
		putchar('\n');
	}
}

static void
json_string(const char *s)
{
	if (s == NULL)
	{
		fputs("null", stdout);
		return;
	}
	putchar('"');
	while (*s)
	{
		unsigned char c = (unsigned char) *s;
		int			len = utf8_char_length(s);

		if (len < 0)
			fputs("\\ufffd", stdout);	/* not UTF-8 */
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			fwrite(s, 1, len, stdout);
		s += len < 0 ? 1 : len;
	}
	putchar('"');
}

static void
json_number(long long n)
{
	if (n < 0)
		fputs("null", stdout);
	else
		printf("%lld", n);
}

/* The recipe's steps, one per line, as a JSON array of strings */
static void
json_lines(const char *text)
{
	const char *p = text ? text : "";
	bool		first = true;

	putchar('[');
	while (*p)
	{
		size_t		len = strcspn(p, "\n");
		char	   *line = pnstrdup(p, len);

		if (len > 0)
		{
			if (!first)
				putchar(',');
			json_string(line);
			first = false;
		}
		pfree(line);
		p += len;
		if (*p == '\n')
			p++;
	}
	putchar(']');
}

/* One array, one object per finding, its keys documented in the README */
static void
print_json(const Report *report)
{
	int			i;

	if (report->n == 0)
	{
		puts("[]");
		return;
	}
	puts("[");
	for (i = 0; i < report->n; i++)
	{
		const Finding *f = &report->items[i];

		fputs("  {\"file\": ", stdout);
		json_string(f->migration->path);
		printf(", \"line\": %d, \"column\": %d, \"migration\": ", f->line, f->column);
		json_string(f->migration->name);
		printf(", \"statement\": %d, \"severity\": ", f->statement);
		json_string(severity_name(f->severity));
		fputs(", \"rule\": ", stdout);
		json_string(f->rule);
		fputs(", \"command\": ", stdout);
		json_string(f->command);
		fputs(", \"relation\": ", stdout);
		json_string(f->relation);
		fputs(", \"lock_mode\": ", stdout);
		json_string(f->lock_mode);
		fputs(", \"table_bytes\": ", stdout);
		json_number(f->table_bytes);
		fputs(", \"est_rows\": ", stdout);
		json_number(f->est_rows);
		fputs(", \"predicted_seconds\": ", stdout);
		if (f->predicted_seconds < 0)
			fputs("null", stdout);
		else
			printf("%.3f", f->predicted_seconds);
		fputs(", \"message\": ", stdout);
		json_string(f->message);
		fputs(", \"detail\": ", stdout);
		json_string(f->detail);
		fputs(", \"hint\": ", stdout);
		json_string(f->hint);
		fputs(", \"recipe\": ", stdout);
		json_lines(f->recipe);
		printf("}%s\n", i < report->n - 1 ? "," : "");
	}
	puts("]");
}

/* GitHub's escaping of a workflow command's data, or of a property too */
static void
github_escaped(const char *s, bool property)
{
	for (; s && *s; s++)
	{
		if (*s == '%')
			fputs("%25", stdout);
		else if (*s == '\r')
			fputs("%0D", stdout);
		else if (*s == '\n')
			fputs("%0A", stdout);
		else if (property && *s == ':')
			fputs("%3A", stdout);
		else if (property && *s == ',')
			fputs("%2C", stdout);
		else
			putchar(*s);
	}
}

/* ::error file=F,line=L,col=C,title=...::message%0A%0Adetail... */
static void
print_github(const Report *report)
{
	int			i;

	for (i = 0; i < report->n; i++)
	{
		const Finding *f = &report->items[i];
		const char *level = f->severity == SEV_WARN ? "warning" :
			f->severity == SEV_UNKNOWN ? "notice" : "error";
		char	   *title = f->rule ?
			psprintf("migration_guard %s[%s]", severity_name(f->severity), f->rule) :
			psprintf("migration_guard %s", severity_name(f->severity));

		printf("::%s file=", level);
		github_escaped(f->migration->path, true);
		printf(",line=%d,col=%d,title=", f->line, f->column);
		github_escaped(title, true);
		fputs("::", stdout);
		github_escaped(f->message, false);
		if (f->detail)
		{
			fputs("%0A%0A", stdout);
			github_escaped(f->detail, false);
		}
		if (f->recipe && f->recipe[0])
		{
			fputs("%0A%0ASafe way:%0A", stdout);
			github_escaped(f->recipe, false);
		}
		putchar('\n');
		pfree(title);
	}
}

void
print_report(const Report *report, Format format, bool color)
{
	switch (format)
	{
		case FORMAT_TEXT:
			stop_workflow_commands(stdout);
			print_text(report, color);
			break;
		case FORMAT_JSON:
			print_json(report);
			break;
		case FORMAT_GITHUB:
			print_github(report);
			break;
	}
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		if (errno == 0)
			errno = EIO;
		fatal("could not write to standard output: %m");
	}
}
