/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* accept4 */
#include "api/server.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/http.h"
#include "api/route.h"
#include "io/seccomp.h"
#include "log.h"
#include "thread.h"

#define API_RECV_SIZE 4096                  /* bytes received at a time from a client */
#define API_ACCEPT_RETRY_NS 100000000ull    /* after accept4 failed for want of fds or memory: 100 ms */
#define API_LINGER_NS 2000000000ull         /* a closing connection's input is dropped for at most 2 s */

/* A socket file at path that nobody accepts on is left over from an earlier run: remove it. */
static int remove_stale(const struct sockaddr_un *addr, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : fail_with(err, errlen, -errno, "%s: %s", addr->sun_path,
						       strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail_with(err, errlen, -EEXIST, "%s exists and is not a socket", addr->sun_path);
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return fail_with(err, errlen, -errno, "socket: %s", strerror(errno));
	int in_use = connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(probe);
	if (in_use)
		return fail_with(err, errlen, -EADDRINUSE, "%s: another process serves on this socket",
				 addr->sun_path);
	if (unlink(addr->sun_path) < 0)
		return fail_with(err, errlen, -errno, "%s: removing the stale socket: %s", addr->sun_path,
				 strerror(errno));
	return 0;
}

static int bind_socket(struct api_server *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (path[0] == '\0' || strlen(path) >= sizeof(addr.sun_path))
		return fail_with(err, errlen, -ENAMETOOLONG, "%s: a socket path is 1 to %zu bytes long", path,
				 sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int rc = remove_stale(&addr, err, errlen);
	if (rc < 0)
		return rc;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return fail_with(err, errlen, -errno, "socket: %s", strerror(errno));
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(s->listen_fd, API_MAX_CONNECTIONS) < 0 || stat(path, &st) < 0)
		return fail_with(err, errlen, -errno, "%s: %s", path, strerror(errno));
	memcpy(s->path, path, strlen(path) + 1);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

int api_server_open(struct api_server *s, const char *path, size_t max_payload, char *err, size_t errlen)
{
	*s = (struct api_server){ .listen_fd = -1, .stop_fd = -1, .request_fd = -1, .max_payload = max_payload };
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	int rc = bind_socket(s, path, err, errlen);
	if (rc < 0)
		return rc;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0 || s->request_fd < 0)
		return fail_with(err, errlen, -errno, "eventfd: %s", strerror(errno));
	return 0;
}

/* Hands the action to the main thread and waits for its reply. */
static void ask_main(struct api_server *s, const struct api_action *a, struct api_reply *r)
{
	uint64_t one = 1;
	bool posted, answered;

	pthread_mutex_lock(&s->lock);
	posted = !s->closed;
	s->pending = posted ? a : NULL;
	s->answered = false;
	pthread_mutex_unlock(&s->lock);
	if (posted && write(s->request_fd, &one, sizeof(one)) != sizeof(one))
		log_error("api", "waking the main thread: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	while (posted && !s->answered && !s->closed)
		pthread_cond_wait(&s->cond, &s->lock);
	answered = s->answered;
	if (answered)
		*r = s->reply;
	s->pending = NULL;
	s->answered = false;
	pthread_mutex_unlock(&s->lock);
	if (!answered)
		api_reply_fault(r, "kiln is exiting: the request was not served.");
}

static void log_request(const char *method, const char *url, const struct api_reply *r)
{
	if (r->status >= 400)
		log_info("api", "%.16s %.200s: %u %s", method, url, r->status, r->fault);
	else
		log_info("api", "%.16s %.200s: %u", method, url, r->status);
}

/* One client connection: what it sent that is not parsed yet, and the reply not sent yet. */
struct api_conn {
	int fd;
	uint64_t last_ns; /* its last byte in or out: idle for API_CONNECTION_TIMEOUT_S, it is closed */
	struct http_parser parser;
	char in[API_RECV_SIZE]; /* received: in[in_off, in_len) is still to parse */
	size_t in_off, in_len;
	char *out; /* the reply being sent: out[out_off, out_len) is still to send */
	size_t out_off, out_len;
	bool close_after; /* the connection ends once out is sent */
	uint64_t linger_end_ns; /* lingering (conn_lingering): closed then at the latest */
};

/*
 * c's last reply is out and its sending side shut: what the client still sends (the body of a
 * request refused for its size, say) is read and dropped until it closes, or until linger_end_ns.
 * Closed at once, a socket with unread input resets the connection, and a client still sending gets
 * ECONNRESET before it reads the reply (RFC 9112 section 9.6, "Tear-down").
 */
static bool conn_lingering(const struct api_conn *c)
{
	return c->close_after && c->out == NULL;
}

static int queue_text(struct api_conn *c, const char *head, size_t hlen, const char *body, size_t blen)
{
	c->out = malloc(hlen + blen);
	if (c->out == NULL)
		return -ENOMEM;
	memcpy(c->out, head, hlen);
	memcpy(c->out + hlen, body, blen);
	c->out_off = 0;
	c->out_len = hlen + blen;
	return 0;
}

static int queue_reply(struct api_conn *c, const struct api_reply *r, bool close)
{
	const char *body = r->body ? r->body : "";
	char head[256];
	int hlen = http_reply_head(head, sizeof(head), r->status, strlen(body), r->body != NULL, close);

	return hlen < 0 ? hlen : queue_text(c, head, (size_t)hlen, body, strlen(body));
}

/* The reply to a parsed request (or to a malformed one) is queued on c; -errno when it cannot be. */
static int answer(struct api_server *s, struct api_conn *c)
{
	const struct http_parser *p = &c->parser;
	const struct http_request *q = &p->req;
	bool close = p->state == HTTP_ERROR || !q->keep_alive;
	char fault[API_ERR_LEN];
	struct api_action *a = NULL;
	struct api_reply r;

	if (p->state == HTTP_ERROR) {
		api_reply_fault(&r, "%s", p->error);
		log_info("api", "a malformed request: %s", p->error);
	} else {
		if (q->too_large)
			api_reply_fault(&r, "Request payload with size %" PRIu64 " is larger than the limit of %zu allowed by server.",
					q->size, s->max_payload);
		else if ((a = malloc(sizeof(*a))) == NULL)
			api_reply_fault(&r, "out of memory");
		else if (api_route(q->method, q->path, q->body ? q->body : "", q->len, a, fault, sizeof(fault)) < 0)
			api_reply_fault(&r, "%s", fault);
		else
			ask_main(s, a, &r);
		log_request(q->method, q->path, &r);
	}
	int rc = queue_reply(c, &r, close);
	api_reply_free(&r);
	free(a);
	c->close_after = close;
	return rc;
}

/* Sends what is queued: 1 when all of it went, 0 when the socket is full, -errno when c must close. */
static int conn_flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		c->out_off += (size_t)n;
		c->last_ns = now_ns();
	}
	free(c->out);
	c->out = NULL;
	if (!c->close_after)
		return 1;
	if (shutdown(c->fd, SHUT_WR) < 0)
		return -errno;
	c->linger_end_ns = now_ns() + API_LINGER_NS;
	return 0;
}

/*
 * Parses what c received and answers each request it completes, one at a time: while a reply waits
 * to be sent nothing more is parsed (nor received), so a client that does not read its replies stops
 * being read. 0, or -errno when c must close.
 */
static int conn_parse(struct api_server *s, struct api_conn *c)
{
	int rc = 1;

	while (rc == 1 && c->in_off < c->in_len) {
		c->in_off += http_parser_feed(&c->parser, c->in + c->in_off, c->in_len - c->in_off);
		if (c->parser.send_continue) {
			c->parser.send_continue = false;
			rc = queue_text(c, HTTP_CONTINUE, strlen(HTTP_CONTINUE), "", 0);
		} else if (c->parser.state == HTTP_DONE || c->parser.state == HTTP_ERROR) {
			rc = answer(s, c);
			http_parser_next(&c->parser);
		} else {
			continue;
		}
		if (rc == 0)
			rc = conn_flush(c);
	}
	return rc < 0 ? rc : 0;
}

/* c's socket is ready: the rest of its reply goes out, or what it sent comes in. 0, or -errno to close. */
static int conn_ready(struct api_server *s, struct api_conn *c)
{
	if (c->out) {
		int rc = conn_flush(c);

		return rc <= 0 ? rc : conn_parse(s, c);
	}
	ssize_t n = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* the client is gone, or says it sends nothing more */
	if (conn_lingering(c))
		return 0; /* dropped */
	c->in_off = 0;
	c->in_len = (size_t)n;
	c->last_ns = now_ns();
	return conn_parse(s, c);
}

static void conn_close(struct api_server *s, unsigned int i)
{
	struct api_conn *c = s->conns[i];

	close(c->fd);
	http_parser_free(&c->parser);
	free(c->out);
	free(c);
	s->conns[i] = NULL;
	s->nconns--;
}

/* Accepts clients while there is room; a failure other than "none waiting" pauses accepting a while. */
static void accept_clients(struct api_server *s)
{
	while (s->nconns < API_MAX_CONNECTIONS) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		struct api_conn *c = fd < 0 ? NULL : malloc(sizeof(*c));
		if (c == NULL) {
			/* EMFILE, ENOMEM...: the client stays in the backlog, the listening socket readable. */
			log_guest(LOG_WARN, "api", "accepting a client: %s", fd < 0 ? strerror(errno) : "out of memory");
			if (fd >= 0)
				close(fd);
			s->accept_after_ns = now_ns() + API_ACCEPT_RETRY_NS;
			return;
		}
		c->fd = fd;
		c->last_ns = now_ns();
		http_parser_init(&c->parser, s->max_payload);
		c->in_off = c->in_len = 0;
		c->out = NULL;
		c->out_off = c->out_len = 0;
		c->close_after = false;
		for (unsigned int i = 0; i < API_MAX_CONNECTIONS; i++) {
			if (s->conns[i] == NULL) {
				s->conns[i] = c;
				break;
			}
		}
		s->nconns++;
	}
}

static void report_start(struct api_server *s, int rc)
{
	pthread_mutex_lock(&s->lock);
	s->start_result = rc;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static uint64_t timeout_ns(void)
{
	return (uint64_t)API_CONNECTION_TIMEOUT_S * 1000000000u;
}

/* When c is closed unless it does something first: idle for the timeout, or done lingering. */
static uint64_t conn_deadline(const struct api_conn *c)
{
	return conn_lingering(c) ? c->linger_end_ns : c->last_ns + timeout_ns();
}

/* Closes the connections past their deadline; returns how long poll may sleep (ms, -1: for ever). */
static int expire_idle(struct api_server *s)
{
	uint64_t now = now_ns(), next = UINT64_MAX;

	for (unsigned int i = 0; i < API_MAX_CONNECTIONS; i++) {
		struct api_conn *c = s->conns[i];

		if (c == NULL)
			continue;
		if (now >= conn_deadline(c))
			conn_close(s, i);
		else if (conn_deadline(c) < next)
			next = conn_deadline(c);
	}
	if (s->accept_after_ns > now && s->accept_after_ns < next)
		next = s->accept_after_ns;
	if (next == UINT64_MAX)
		return -1;
	uint64_t ms = (next - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * One poll over the stop eventfd, the listening socket (while there is room for a client) and each
 * client (for its reply's room while one waits, else for its input). 1, 0 once asked to stop, or -errno.
 */
static int serve_once(struct api_server *s)
{
	struct pollfd p[2 + API_MAX_CONNECTIONS];
	unsigned int who[API_MAX_CONNECTIONS], n = 2;
	int timeout = expire_idle(s);
	bool may_accept = s->nconns < API_MAX_CONNECTIONS && now_ns() >= s->accept_after_ns;

	p[0] = (struct pollfd){ .fd = s->stop_fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = may_accept ? s->listen_fd : -1, .events = POLLIN }; /* poll skips -1 */
	for (unsigned int i = 0; i < API_MAX_CONNECTIONS; i++) {
		if (s->conns[i] == NULL)
			continue;
		who[n - 2] = i;
		p[n++] = (struct pollfd){ .fd = s->conns[i]->fd, .events = s->conns[i]->out ? POLLOUT : POLLIN };
	}
	if (poll(p, n, timeout) < 0)
		return errno == EINTR ? 1 : -errno;
	if (p[0].revents)
		return 0;
	for (unsigned int k = 2; k < n; k++)
		if (p[k].revents && conn_ready(s, s->conns[who[k - 2]]) < 0)
			conn_close(s, who[k - 2]);
	if (p[1].revents)
		accept_clients(s);
	return 1;
}

void api_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static void *api_thread(void *arg)
{
	struct api_server *s = arg;
	sigset_t stop_signals;

	/* Signals are the main thread's (its signalfd); replies are sent with MSG_NOSIGNAL. */
	api_stop_signals(&stop_signals);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	int rc = seccomp_install(SECCOMP_THREAD_API);
	report_start(s, rc);
	if (rc < 0)
		return NULL;
	seccomp_test_violation(SECCOMP_THREAD_API);
	while ((rc = serve_once(s)) > 0)
		;
	if (rc < 0)
		log_error("api", "poll: %s", strerror(-rc));
	return NULL;
}

int api_server_start(struct api_server *s, char *err, size_t errlen)
{
	s->start_result = 1;
	int rc = thread_start(&s->thread, api_thread, s);
	if (rc < 0)
		return fail_with(err, errlen, rc, "starting the API thread: %s", strerror(-rc));
	s->thread_running = true;
	pthread_mutex_lock(&s->lock);
	while (s->start_result == 1)
		pthread_cond_wait(&s->cond, &s->lock);
	rc = s->start_result;
	pthread_mutex_unlock(&s->lock);
	if (rc < 0)
		return fail_with(err, errlen, rc, "the API thread's seccomp filter: %s", strerror(-rc));
	return 0;
}

int api_server_request_fd(const struct api_server *s)
{
	return s->request_fd;
}

void api_server_serve(struct api_server *s, api_handler_fn fn, void *ctx)
{
	uint64_t count;
	struct api_reply r;

	if (read(s->request_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn("api", "reading the request eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	const struct api_action *a = s->pending && !s->answered ? s->pending : NULL;
	pthread_mutex_unlock(&s->lock);
	if (a == NULL)
		return;
	/* The API thread waits on the condition variable, so the action stays put while it is applied. */
	fn(ctx, a, &r);
	pthread_mutex_lock(&s->lock);
	s->reply = r;
	s->answered = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void api_server_close(struct api_server *s)
{
	uint64_t one = 1;
	struct stat st;

	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_running) {
		if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_error("api", "stopping the API thread: %s", strerror(errno));
		pthread_join(s->thread, NULL);
		s->thread_running = false;
	}
	for (unsigned int i = 0; i < API_MAX_CONNECTIONS; i++)
		if (s->conns[i])
			conn_close(s, i);
	close_fd(&s->listen_fd);
	close_fd(&s->stop_fd);
	close_fd(&s->request_fd);
	/* Unlink the socket only if it is still the one this server bound. */
	if (s->path[0] && stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	s->path[0] = '\0';
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}
