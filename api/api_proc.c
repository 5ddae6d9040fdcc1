/*
 * api_proc.c -- the serving loop shared by the helper protocol glue
 * (api_proc.h): options, privilege drop, request routing by handler
 * table, replies, violation logging and exit statuses.
 *
 * Runs inside helper programs (libexec/table-*, queue-*, scheduler-*),
 * on the socket the daemon handed them as fd 0.  Every request is read
 * whole by imsg_read_one(); a bad frame, an unknown type, a request
 * before the handshake or an fd where none belongs ends the loop with
 * status 1 before any driver code runs.  The only privileged steps are
 * the chroot and setuid done once before the first read.  Nothing here
 * calls exit.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api_log.h"
#include "api_proc.h"
#include "wire.h"

/* api_proc_reset - a new conversation: no object, no handshake yet */
static void
api_proc_reset(struct api_proc *p)
{
	strlcpy(p->prefix, p->name, sizeof p->prefix);
	p->opened = 0;
}

void
api_proc_set_object(struct api_proc *p, const char *fmt, ...)
{
	va_list	ap;
	size_t	len;

	len = strlcpy(p->prefix, p->name, sizeof p->prefix);
	if (len + 2 >= sizeof p->prefix)
		return;
	memcpy(p->prefix + len, ": ", 3);
	len += 2;
	va_start(ap, fmt);
	(void)vsnprintf(p->prefix + len, sizeof p->prefix - len, fmt, ap);
	va_end(ap);
}

int
api_proc_init(struct api_proc *p, const char *progname, int argc,
    char *argv[], const char *usage)
{
	char	opts[64];
	int	ch;

	api_log_init(1);
	api_log_setname(progname);
	if (p != NULL)
		api_proc_reset(p);
	if ((size_t)snprintf(opts, sizeof opts, "v%s%s",
	    p != NULL && p->privdrop ? "c:nu:" : "",
	    p != NULL && p->options != NULL ? p->options : "") >= sizeof opts) {
		api_log_warnx("%s: too many options", progname);
		return -1;
	}
	optind = 1;
	while ((ch = getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'c':
			p->chroot = optarg;
			break;
		case 'n':
			p->chroot = NULL;
			break;
		case 'u':
			p->user = optarg[0] ? optarg : NULL;
			break;
		case 'v':
			api_log_verbose(1);
			break;
		case '?':
		case ':':
			goto bad;
		default:
			if (p == NULL || p->on_option == NULL ||
			    p->on_option(ch, optarg) == -1)
				goto bad;
			break;
		}
	}
	return optind;
bad:
	api_log_warnx("usage: %s %s", progname, usage);
	return -1;
}

int
api_proc_drop_privileges(struct api_proc *p)
{
	struct passwd	*pw = NULL;

	if (geteuid() != 0) {
		api_log_debug("%s: not root: no chroot, uid %ld kept",
		    p->prefix, (long)geteuid());
		return 0;
	}
	/* before the chroot: the passwd file is outside it */
	if (p->user != NULL && (pw = getpwnam(p->user)) == NULL) {
		api_log_warnx("%s: unknown user %s", p->prefix, p->user);
		return -1;
	}
	if (p->chroot != NULL) {
		if (chroot(p->chroot) == -1 || chdir("/") == -1) {
			api_log_warn("%s: chroot %s", p->prefix, p->chroot);
			return -1;
		}
	}
	if (pw != NULL) {
		if (setgroups(1, &pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
			api_log_warn("%s: cannot drop to user %s", p->prefix,
			    p->user);
			return -1;
		}
	}
	api_log_debug("%s: chroot=%s user=%s", p->prefix,
	    p->chroot ? p->chroot : "-", p->user ? p->user : "-");
	return 0;
}

int
api_proc_reply(struct api_proc *p, int fd, const void *buf, size_t len)
{
	if (imsg_compose(&p->ib, p->ok_type, 0, fd, buf, len) == -1) {
		api_log_warn("%s: cannot compose reply", p->prefix);
		return -1;
	}
	if (imsgbuf_flush(&p->ib) == -1) {
		if (errno == EPIPE || errno == ECONNRESET) {
			/* the daemon went away: the same as EOF */
			api_log_debug("%s: peer gone", p->prefix);
			return 1;
		}
		api_log_warn("%s: cannot send reply", p->prefix);
		return -1;
	}
	return 0;
}

int
api_proc_reply_wire(struct api_proc *p, struct wire_writer *w)
{
	if (wire_writer_error(w)) {
		api_log_warnx("%s: reply does not fit", p->prefix);
		return -1;
	}
	return api_proc_reply(p, -1, w->buf, w->len);
}

int
api_proc_reply_r(struct api_proc *p, int32_t r)
{
	unsigned char		buf[4];
	struct wire_writer	w;

	wire_writer_init(&w, buf, sizeof buf);
	wire_put_i32(&w, r);
	return api_proc_reply_wire(p, &w);
}

int
api_proc_bad_len(struct api_proc *p, struct imsg *imsg, const char *what)
{
	api_log_warnx("%s: bad msg len %zu for %s", p->prefix, imsg->datalen,
	    what);
	return -1;
}

int
api_proc_get_none(struct api_proc *p, struct imsg *imsg, const char *what)
{
	return imsg->datalen != 0 ? api_proc_bad_len(p, imsg, what) : 0;
}

int
api_proc_get_exact(struct api_proc *p, struct imsg *imsg, const char *what,
    void *v, size_t size)
{
	struct wire_reader	r;

	wire_reader_init(&r, imsg->data, imsg->datalen);
	wire_get_raw(&r, v, size);
	return wire_end(&r) == -1 ? api_proc_bad_len(p, imsg, what) : 0;
}

int
api_proc_get_u32(struct api_proc *p, struct imsg *imsg, const char *what,
    uint32_t *v)
{
	return api_proc_get_exact(p, imsg, what, v, sizeof *v);
}

int
api_proc_get_u64(struct api_proc *p, struct imsg *imsg, const char *what,
    uint64_t *v)
{
	return api_proc_get_exact(p, imsg, what, v, sizeof *v);
}

int32_t
api_proc_result(struct api_proc *p, int r, const char *what, int lowest,
    int32_t fail)
{
	if (r >= lowest && r <= 1)
		return r;
	api_log_warnx("%s: %s callback returned %d, answering %d", p->prefix,
	    what, r, fail);
	return fail;
}

/* api_proc_handshake_name - the name of the request that opens */
static const char *
api_proc_handshake_name(const struct api_proc_handler *handlers, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (handlers[i].flags & API_PROC_HANDSHAKE)
			return handlers[i].name;
	return "the handshake";
}

/* api_proc_handle - route one request; 0 go on, 1 stop, -1 violation */
static int
api_proc_handle(struct api_proc *p, struct imsg *imsg,
    const struct api_proc_handler *handlers, size_t n)
{
	const struct api_proc_handler	*h;
	size_t				 i;
	int				 r;

	for (i = 0; i < n; i++) {
		h = &handlers[i];
		if (h->type != imsg->hdr.type)
			continue;
		if (!p->opened && !(h->flags & API_PROC_HANDSHAKE)) {
			api_log_warnx("%s: %s before %s", p->prefix, h->name,
			    api_proc_handshake_name(handlers, n));
			return -1;
		}
		if (p->opened && (h->flags & API_PROC_HANDSHAKE)) {
			api_log_warnx("%s: second %s", p->prefix, h->name);
			return -1;
		}
		if ((h->flags & API_PROC_FD) && imsg->fd == -1) {
			api_log_warnx("%s: %s without an fd", p->prefix,
			    h->name);
			return -1;
		}
		if (!(h->flags & (API_PROC_FD | API_PROC_FD_ANY)) &&
		    (imsg->hdr.flags & IMSGF_HASFD)) {
			api_log_warnx("%s: unexpected fd with %s", p->prefix,
			    h->name);
			return -1;
		}
		r = h->fn(p, imsg);
		if (r == 0 && (h->flags & API_PROC_HANDSHAKE))
			p->opened = 1;
		return r;
	}
	api_log_warnx("%s: bad message %u", p->prefix, imsg->hdr.type);
	return -1;
}

int
api_proc_dispatch(struct api_proc *p, int fd,
    const struct api_proc_handler *handlers, size_t nhandlers)
{
	struct imsg	imsg;
	int		r, status = 1;

	api_proc_reset(p);
	if (p->privdrop && api_proc_drop_privileges(p) == -1)
		return 1;
	if (imsgbuf_init(&p->ib, fd) == -1) {
		api_log_warn("%s: imsgbuf_init", p->prefix);
		return 1;
	}
	for (;;) {
		r = imsg_read_one(&p->ib, &imsg);
		if (r == 0) {
			api_log_debug("%s: end of input", p->prefix);
			status = 0;
			break;
		}
		if (r == -1) {
			if (errno == EBADMSG)
				api_log_warnx("%s: bad frame header",
				    p->prefix);
			else
				api_log_warn("%s: read", p->prefix);
			break;
		}
		r = api_proc_handle(p, &imsg, handlers, nhandlers);
		imsg_free(&imsg);
		if (r != 0) {
			status = r == 1 ? 0 : 1;
			break;
		}
	}
	imsgbuf_clear(&p->ib);
	return status;
}
