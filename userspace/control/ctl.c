// SPDX-License-Identifier: Apache-2.0
/*
 * ctl: the control socket's server and client (see ctl.h; the renderers are in ctl_render.c).
 *
 * The server lives on the daemon's one event loop, so nothing here may block: the listener and
 * every connection are non-blocking, a connection reads its one request line, has the handler
 * build the whole answer in memory, and then writes it as fast as the client takes it (the
 * fd is watched for EPOLLOUT only while bytes are left). A client cannot hold the loop or a
 * connection slot: the request line must arrive within CTL_IDLE_MS of the accept, and while
 * answering, each CTL_IDLE_MS must see some progress. Nor can one member of the socket's group
 * hold them all: a user other than root has at most CTL_MAX_PER_UID at once, and the last slot
 * is root's alone, so that `vigil approve` always gets in.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/ctl.h"

#define CTL_MAX_CONNS 16
#define CTL_MAX_PER_UID 4   /* a user other than root holds at most this many at once */
#define CTL_MAX_REQUEST 256 /* bytes of the request line, its "\n" included */
#define CTL_IDLE_MS 2000
#define CTL_BACKLOG 32
#define CTL_ACCEPT_BATCH 64	   /* accepts per wakeup, so a flood cannot starve the loop */
#define CTL_ACCEPT_RETRY_MS 100	   /* pause after EMFILE & co., rather than spin on them */
#define CTL_MAX_ANSWER (64u << 20) /* client side: more than this is not a sane answer */

struct ctl_conn {
	struct vigil_ctl *ctl;
	struct ctl_conn *next;
	int fd;
	struct vigil_timer timer;
	uint64_t deadline_ns;
	bool writing; /* the request is read; the fd is watched for EPOLLOUT, if at all */
	bool want_out;
	struct vigil_ctl_peer peer;
	size_t req_len;
	char req[CTL_MAX_REQUEST + 1];
	/* The answer is answer.buf[0..len]: the writer keeps buf NUL-terminated at len, and
	 * that byte is overwritten with the answer's closing "\n". */
	struct vigil_json answer;
	size_t sent;
};

/* A command's handler: a query (const context) or a command (told who asked). */
struct handler {
	const char *cmd;
	vigil_ctl_query_fn query;
	vigil_ctl_command_fn command;
	const void *qctx;
	void *cctx;
};

struct vigil_ctl {
	struct vigil_loop *loop;
	struct handler handlers[VIGIL_CTL_MAX_HANDLERS];
	unsigned int n_handlers;
	int fd;
	bool watched; /* fd is registered with the loop */
	bool bound;   /* the socket file is ours to unlink */
	struct vigil_timer resume_timer;
	unsigned int n_conns;
	struct ctl_conn *conns;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Close and forget a connection: its fd, its timer, its answer. */
static void conn_free(struct ctl_conn *c)
{
	struct vigil_ctl *ctl = c->ctl;
	struct ctl_conn **pp;

	for (pp = &ctl->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl->n_conns--;
	vigil_loop_del_fd(ctl->loop, c->fd);
	close(c->fd);
	vigil_timer_cancel(ctl->loop, &c->timer);
	vigil_json_free(&c->answer);
	free(c);
}

static void on_conn_timer(struct vigil_loop *loop, void *arg);

/* Arm the connection's timer for its deadline. */
static void conn_arm(struct ctl_conn *c)
{
	uint64_t now = vigil_loop_now(c->ctl->loop);
	uint64_t ms = c->deadline_ns > now ? (c->deadline_ns - now + 999999) / 1000000 : 0;

	vigil_timer_arm(c->ctl->loop, &c->timer, ms);
}

/* One timer per connection, pushed back lazily: progress only moves deadline_ns, and the
 * timer re-arms itself for what is left when it fires early. */
static void on_conn_timer(struct vigil_loop *loop, void *arg)
{
	struct ctl_conn *c = arg;

	if (vigil_loop_now(loop) >= c->deadline_ns)
		conn_free(c);
	else
		conn_arm(c);
}

int vigil_ctl_parse_request(char *line, size_t len, char **cmd, char **arg, const char **why)
{
	char *sp;

	line[len] = '\0';
	*cmd = line;
	*arg = NULL;
	/* nc and socat users send "\r\n". */
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (strlen(line) != len) {
		*why = "malformed request (NUL byte)";
		return -EBADMSG;
	}
	sp = strchr(line, ' ');
	if (sp) {
		*sp = '\0';
		*arg = sp + 1 + strspn(sp + 1, " ");
		if (!**arg)
			*arg = NULL;
	}
	if (!*line) {
		*why = "empty request";
		return -EBADMSG;
	}
	return 0;
}

/* Build the answer to the request line in c->req. Returns 0 or -ENOMEM. */
static int conn_answer(struct ctl_conn *c, size_t line_len)
{
	struct vigil_ctl *ctl = c->ctl;
	char *cmd, *arg;
	char msg[CTL_MAX_REQUEST + 128], eb[64];
	const char *why;
	int err;

	if (vigil_ctl_parse_request(c->req, line_len, &cmd, &arg, &why)) {
		snprintf(msg, sizeof(msg), "%s", why);
		goto error;
	}
	err = -ENOENT;
	for (unsigned int i = 0; i < ctl->n_handlers; i++) {
		const struct handler *h = &ctl->handlers[i];

		if (strcmp(h->cmd, cmd))
			continue;
		err = h->query ? h->query(arg, &c->answer, h->qctx)
			       : h->command(arg, &c->peer, &c->answer, h->cctx);
		break;
	}
	if (!err && c->answer.err)
		err = c->answer.err;
	if (!err && !c->answer.len)
		err = -ENODATA;
	if (!err)
		return 0;
	if (err == -ENOENT && !arg)
		snprintf(msg, sizeof(msg), "unknown command '%s'", cmd);
	else if (err == -ENOENT)
		snprintf(msg, sizeof(msg), "unknown command or argument '%s %s'", cmd, arg);
	else
		snprintf(msg, sizeof(msg), "%s: %s", cmd, strerror_r(-err, eb, sizeof(eb)));
error:
	vigil_json_begin(&c->answer);
	vigil_json_str(&c->answer, "error", msg);
	return vigil_json_end(&c->answer);
}

static void on_conn(struct vigil_loop *loop, int fd, uint32_t events, void *arg);

/* Send what the socket takes of the answer; free the connection when it is all sent or the
 * client is gone, watch for EPOLLOUT when the socket is full. */
static void conn_write(struct ctl_conn *c)
{
	size_t total = c->answer.len + 1;
	ssize_t n;

	while (c->sent < total) {
		n = send(c->fd, c->answer.buf + c->sent, total - c->sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			goto drop;
		c->sent += (size_t)n;
		c->deadline_ns = vigil_loop_now(c->ctl->loop) + CTL_IDLE_MS * 1000000ull;
	}
	if (c->sent == total)
		goto drop;
	if (!c->want_out) {
		/* The loop has no "modify": re-register the fd for EPOLLOUT alone. */
		vigil_loop_del_fd(c->ctl->loop, c->fd);
		if (vigil_loop_add_fd(c->ctl->loop, c->fd, EPOLLOUT, on_conn, c))
			goto drop;
		c->want_out = true;
	}
	return;
drop:
	conn_free(c);
}

/* Read what has arrived of the request line; answer once it is whole. */
static void conn_read(struct ctl_conn *c)
{
	size_t room = CTL_MAX_REQUEST - c->req_len;
	char *nl;
	ssize_t n;

	n = recv(c->fd, c->req + c->req_len, room, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return; /* spurious wakeup: nothing lost */
	if (n <= 0)
		goto drop; /* error, or closed before a whole line */
	nl = memchr(c->req + c->req_len, '\n', (size_t)n);
	c->req_len += (size_t)n;
	if (!nl) {
		if (c->req_len == CTL_MAX_REQUEST)
			goto drop; /* too long: not one of ours */
		return;
	}
	*nl = '\0';
	if (conn_answer(c, (size_t)(nl - c->req)))
		goto drop;
	c->answer.buf[c->answer.len] = '\n';
	c->writing = true;
	c->deadline_ns = vigil_loop_now(c->ctl->loop) + CTL_IDLE_MS * 1000000ull;
	conn_write(c);
	return;
drop:
	conn_free(c);
}

/* A connection's fd is ready: read the request, or write more of the answer. */
static void on_conn(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ctl_conn *c = arg;

	(void)loop;
	(void)fd;
	(void)events; /* EPOLLHUP/EPOLLERR show up as a failed recv() or send() */
	if (c->writing)
		conn_write(c);
	else
		conn_read(c);
}

static void on_listen(struct vigil_loop *loop, int fd, uint32_t events, void *arg);

/* The pause after EMFILE & co. is over: watch the listener again (or try again later). */
static void resume_accept(struct vigil_loop *loop, void *arg)
{
	struct vigil_ctl *ctl = arg;

	if (!vigil_loop_add_fd(loop, ctl->fd, EPOLLIN, on_listen, ctl))
		ctl->watched = true;
	else
		vigil_timer_arm(loop, &ctl->resume_timer, CTL_ACCEPT_RETRY_MS);
}

/* Out of fds or memory: the listener would stay readable and the loop spin on it. Stop
 * watching it for a while; the pending clients wait in the backlog. */
static void pause_accept(struct vigil_ctl *ctl)
{
	vigil_timer_arm(ctl->loop, &ctl->resume_timer, CTL_ACCEPT_RETRY_MS);
	vigil_loop_del_fd(ctl->loop, ctl->fd);
	ctl->watched = false;
}

/* Who is at the other end of a connection; -1s when the kernel does not say. */
static struct vigil_ctl_peer get_peer(int fd)
{
	struct vigil_ctl_peer p = {-1, (uid_t)-1, (gid_t)-1};
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) && len == sizeof(cr)) {
		p.pid = cr.pid;
		p.uid = cr.uid;
		p.gid = cr.gid;
	}
	return p;
}

/* May peer have one more connection? Fair shares, and the last slot root's. */
static bool conn_allowed(const struct vigil_ctl *ctl, const struct vigil_ctl_peer *peer)
{
	unsigned int mine = 0;

	if (ctl->n_conns >= CTL_MAX_CONNS)
		return false;
	if (peer->uid == 0)
		return true;
	if (ctl->n_conns >= CTL_MAX_CONNS - 1)
		return false;
	for (const struct ctl_conn *c = ctl->conns; c; c = c->next)
		mine += c->peer.uid == peer->uid;
	return mine < CTL_MAX_PER_UID;
}

/* Take a new connection: watch it, arm its timer. Returns 0 or -errno (cfd left open). */
static int conn_new(struct vigil_ctl *ctl, int cfd)
{
	struct ctl_conn *c;
	struct vigil_ctl_peer peer = get_peer(cfd);
	int err;

	if (!conn_allowed(ctl, &peer))
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctl = ctl;
	c->fd = cfd;
	c->peer = peer;
	vigil_timer_init(&c->timer, on_conn_timer, c);
	c->deadline_ns = vigil_loop_now(ctl->loop) + CTL_IDLE_MS * 1000000ull;
	err = vigil_loop_add_fd(ctl->loop, cfd, EPOLLIN, on_conn, c);
	if (err)
		goto fail;
	conn_arm(c);
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->n_conns++;
	return 0;
fail:
	free(c);
	return err;
}

/* Accept what is pending, up to CTL_ACCEPT_BATCH; level-triggered epoll brings the rest. */
static void on_listen(struct vigil_loop *loop, int fd, uint32_t events, void *arg)
{
	struct vigil_ctl *ctl = arg;

	(void)loop;
	(void)events;
	for (int i = 0; i < CTL_ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				pause_accept(ctl);
			return; /* EAGAIN: all taken */
		}
		/* Over the limit (its user's, or all): accepted and closed at once, so the
		 * client learns it now rather than after a timeout in the backlog. */
		if (conn_new(ctl, cfd))
			close(cfd);
	}
}

/* mkdir -p of path's directory. What it creates is 0755 whatever the umask, so that the
 * socket's group can reach the socket. Returns 0 or -errno. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (!mkdir(dir, 0755))
			chmod(dir, 0755);
		else if (errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/*
 * Make way for our socket at sa's path. Returns 0 when the path is free (nothing there, or a
 * socket nobody listens on, which is removed), -EADDRINUSE when a daemon answers there,
 * -EEXIST when something that is not a socket is there (not ours to delete), or -errno.
 */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err = 0;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Non-blocking: a live daemon with a full backlog says EAGAIN rather than stall us. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) || errno == EAGAIN)
		err = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		err = unlink(sa->sun_path) && errno != ENOENT ? -errno : 0;
	else if (errno != ENOENT)
		err = -errno;
	close(fd);
	return err;
}

/* Returns 0 and *out; -EADDRINUSE when a daemon answers on path, -EEXIST when path is not a
 * socket, or another -errno. */
static int add_handler(struct vigil_ctl *c, const struct handler *h)
{
	for (unsigned int i = 0; i < c->n_handlers; i++)
		if (!strcmp(c->handlers[i].cmd, h->cmd))
			return -EEXIST;
	if (c->n_handlers == VIGIL_CTL_MAX_HANDLERS)
		return -E2BIG;
	c->handlers[c->n_handlers++] = *h;
	return 0;
}

int vigil_ctl_query(struct vigil_ctl *c, const char *cmd, vigil_ctl_query_fn fn, const void *ctx)
{
	return add_handler(c, &(struct handler){.cmd = cmd, .query = fn, .qctx = ctx});
}

int vigil_ctl_command(struct vigil_ctl *c, const char *cmd, vigil_ctl_command_fn fn, void *ctx)
{
	return add_handler(c, &(struct handler){.cmd = cmd, .command = fn, .cctx = ctx});
}

int vigil_ctl_listen(struct vigil_loop *loop, const char *path, struct vigil_ctl **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vigil_ctl *ctl;
	int err;

	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->fd = -1;
	vigil_timer_init(&ctl->resume_timer, resume_accept, ctl);
	memcpy(ctl->path, sa.sun_path, sizeof(ctl->path));

	err = make_parent(path);
	if (!err)
		err = clear_stale(&sa);
	if (err)
		goto fail;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto fail;
	}
	ctl->bound = true;
	/* Before listen(): until then a connect is refused, so no one gets in under the umask. */
	if (chmod(path, 0660) || listen(ctl->fd, CTL_BACKLOG)) {
		err = -errno;
		goto fail;
	}
	err = vigil_loop_add_fd(loop, ctl->fd, EPOLLIN, on_listen, ctl);
	if (err)
		goto fail;
	ctl->watched = true;
	*out = ctl;
	return 0;
fail:
	vigil_ctl_close(ctl);
	return err;
}

/* Open connections are dropped without an answer: the daemon is going away. */
void vigil_ctl_close(struct vigil_ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->conns)
		conn_free(ctl->conns);
	vigil_timer_cancel(ctl->loop, &ctl->resume_timer);
	if (ctl->watched)
		vigil_loop_del_fd(ctl->loop, ctl->fd);
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->bound)
		unlink(ctl->path);
	free(ctl);
}

/* ms left until deadline_ns, for poll(): -1 when there is no deadline, 0 when it is past. */
static int ms_left(uint64_t deadline_ns)
{
	uint64_t now;

	if (!deadline_ns)
		return -1;
	now = vigil_mono_ns();
	return now >= deadline_ns ? 0 : (int)((deadline_ns - now + 999999) / 1000000);
}

/* Wait until fd is ready for events. Returns 0, -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do {
		n = poll(&p, 1, ms_left(deadline_ns));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Connect to path; a full backlog waits up to the deadline. Returns the fd or -errno. */
static int ctl_connect(const char *path, uint64_t deadline_ns)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, ms = ms_left(deadline_ns), err;

	if (ms == 0)
		ms = 1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* An AF_UNIX connect waits for room in the listener's backlog for SO_SNDTIMEO, and
	 * cannot be made to wait with poll(): a non-blocking one fails at once with EAGAIN.
	 * (A zero SO_SNDTIMEO would mean "forever".) */
	if (ms >= 0) {
		struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Send all of buf. Returns 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len, uint64_t deadline_ns)
{
	ssize_t n;
	int err;

	while (len) {
		err = wait_fd(fd, POLLOUT, deadline_ns);
		if (err)
			return err;
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until EOF into *buf (NUL-terminated). Returns the length or -errno. */
static ssize_t recv_all(int fd, char **buf, uint64_t deadline_ns)
{
	size_t len = 0, cap = 0;
	char *b = NULL, *nb;
	ssize_t n;
	int err;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			if (cap > CTL_MAX_ANSWER) {
				err = -EMSGSIZE;
				goto fail;
			}
			nb = realloc(b, cap);
			if (!nb) {
				err = -ENOMEM;
				goto fail;
			}
			b = nb;
		}
		err = wait_fd(fd, POLLIN, deadline_ns);
		if (err)
			goto fail;
		n = recv(fd, b + len, cap - len - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* A server that closes with our bytes unread makes the kernel report ECONNRESET
		 * after the data: a whole answer before it still counts. */
		if (n == 0 || (n < 0 && errno == ECONNRESET && len && b[len - 1] == '\n'))
			break;
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		len += (size_t)n;
	}
	b[len] = '\0';
	*buf = b;
	return (ssize_t)len;
fail:
	free(b);
	return err;
}

/* Returns 0 and *answer (without its closing "\n"), -ENOENT or -ECONNREFUSED when no daemon
 * listens, -ETIMEDOUT, -EINVAL for a request the server could not read (a command with a
 * blank, a line break, more than CTL_MAX_REQUEST bytes), -EPROTO for an answer cut short, or
 * another -errno. A negative timeout_ms waits for ever. */
int vigil_ctl_request(const char *path, const char *cmd, const char *arg, char **answer,
		      int timeout_ms)
{
	uint64_t deadline = timeout_ms >= 0 ? vigil_mono_ns() + timeout_ms * 1000000ull : 0;
	char req[CTL_MAX_REQUEST + 1], *buf = NULL;
	ssize_t len;
	int fd, n, err;

	/* The server reads one line "COMMAND [ARG]\n" of at most CTL_MAX_REQUEST bytes. */
	if (!path || !cmd || !*cmd || strpbrk(cmd, " \r\n") || (arg && strpbrk(arg, "\r\n")))
		return -EINVAL;
	n = snprintf(req, sizeof(req), "%s%s%s\n", cmd, arg ? " " : "", arg ? arg : "");
	if (n < 0 || n > CTL_MAX_REQUEST)
		return -EINVAL;
	fd = ctl_connect(path, deadline);
	if (fd < 0)
		return fd;
	err = send_all(fd, req, (size_t)n, deadline);
	if (err)
		goto out;
	len = recv_all(fd, &buf, deadline);
	if (len < 0) {
		err = (int)len;
		goto out;
	}
	/* A whole answer ends with "\n": anything else was cut short. */
	if (!len || buf[len - 1] != '\n') {
		free(buf);
		err = -EPROTO;
		goto out;
	}
	buf[len - 1] = '\0';
	*answer = buf;
out:
	close(fd);
	return err;
}
