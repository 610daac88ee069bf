/* SPDX-License-Identifier: Apache-2.0 */
#include "api/server.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/route.h"
#include "io/loop.h"
#include "io/seccomp.h"
#include "log.h"

/* One request being received: its body, up to the payload limit, then its action. */
struct request {
	char *body;
	size_t len;
	size_t size;       /* the body's full size, counted past the limit */
	bool too_large;
	struct api_action action;
};

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

static enum MHD_Result send_reply(struct MHD_Connection *c, const struct api_reply *r)
{
	const char *body = r->body ? r->body : "";
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);

	if (resp == NULL)
		return MHD_NO;
	if (r->body)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
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

static enum MHD_Result answer(struct api_server *s, struct MHD_Connection *c, const char *method, const char *url,
			      struct request *req)
{
	char fault[API_ERR_LEN];
	struct api_reply r;

	if (req->too_large)
		api_reply_fault(&r, "Request payload with size %zu is larger than the limit of %zu allowed by server.",
				req->size, s->max_payload);
	else if (api_route(method, url, req->body ? req->body : "", req->len, &req->action, fault, sizeof(fault)) < 0)
		api_reply_fault(&r, "%s", fault);
	else
		ask_main(s, &req->action, &r);
	log_request(method, url, &r);
	enum MHD_Result ret = send_reply(c, &r);
	api_reply_free(&r);
	return ret;
}

/* Keeps at most max_payload bytes of the body; counts the rest to report its size. */
static void take_body(struct api_server *s, struct request *req, const char *data, size_t n)
{
	if (req->size + n > s->max_payload || req->too_large) {
		req->too_large = true;
		req->size += n;
		return;
	}
	if (req->body == NULL && (req->body = malloc(s->max_payload + 1)) == NULL) {
		req->too_large = true; /* out of memory: refused like a body too large to hold */
		return;
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	req->size += n;
	req->body[req->len] = '\0';
}

/* libmicrohttpd's access handler: first the headers, then the body in pieces, then an empty call. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct api_server *s = cls;
	struct request *req = *con_cls;

	(void)version;
	if (req == NULL) {
		*con_cls = req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long declared = length ? strtoull(length, NULL, 10) : 0;
		if (declared <= s->max_payload)
			return MHD_YES;
		/* Refused before its body is read: the connection closes after the reply. */
		req->too_large = true;
		req->size = declared > SIZE_MAX ? SIZE_MAX : (size_t)declared;
		return answer(s, c, method, url, req);
	}
	if (*upload_data_size) {
		take_body(s, req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer(s, c, method, url, req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct request *req = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (req)
		free(req->body);
	free(req);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("api", "libmicrohttpd: %s", line);
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
	/*
	 * External polling with epoll: the API thread polls MHD's one epoll fd beside stop_fd. No Date
	 * header (Firecracker sends none either): formatting one reads /etc/localtime, a file the API
	 * thread's filter does not let it open.
	 */
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_SUPPRESS_DATE_NO_CLOCK, 0, NULL, NULL,
				  on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned int)API_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned int)API_CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_END);
	if (s->mhd == NULL)
		return fail_with(err, errlen, -EIO,
				 "%s: libmicrohttpd could not start (--log-level debug says why)", path);
	return 0;
}

static void report_start(struct api_server *s, int rc)
{
	pthread_mutex_lock(&s->lock);
	s->start_result = rc;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* How long the API thread may sleep: until libmicrohttpd's next timeout, or for ever. */
static int poll_timeout(struct MHD_Daemon *mhd)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(mhd, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Sleeps until libmicrohttpd has work or its next timeout: 1, or 0 once asked to stop, or -errno.
 * At its connection limit libmicrohttpd takes the listening socket out of its epoll set, and puts it
 * back only inside MHD_run: so while it has room, a client waiting in the backlog (after idle ones
 * timed out) wakes this thread through the listening socket itself.
 */
static int wait_for_work(struct api_server *s, int mhd_epoll_fd)
{
	const union MHD_DaemonInfo *conns = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	bool room = conns != NULL && conns->num_connections < API_MAX_CONNECTIONS;
	struct pollfd p[3] = {
		{ .fd = mhd_epoll_fd, .events = POLLIN },
		{ .fd = s->stop_fd, .events = POLLIN },
		{ .fd = room ? s->listen_fd : -1, .events = POLLIN }, /* poll skips a negative fd */
	};

	if (poll(p, ARRAY_SIZE(p), poll_timeout(s->mhd)) < 0 && errno != EINTR)
		return -errno;
	return p[1].revents ? 0 : 1;
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
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	sigset_t stop_signals;

	/* Signals are the main thread's (its signalfd); SIGPIPE from a vanished client is ignored. */
	api_stop_signals(&stop_signals);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	block_sigpipe();
	int rc = info ? seccomp_install(SECCOMP_THREAD_API) : -EIO;
	report_start(s, rc);
	if (rc < 0)
		return NULL;
	seccomp_test_violation(SECCOMP_THREAD_API);
	while ((rc = wait_for_work(s, info->epoll_fd)) > 0)
		MHD_run(s->mhd);
	if (rc < 0)
		log_error("api", "poll: %s", strerror(-rc));
	return NULL;
}

int api_server_start(struct api_server *s, char *err, size_t errlen)
{
	s->start_result = 1;
	int rc = pthread_create(&s->thread, NULL, api_thread, s);
	if (rc != 0)
		return fail_with(err, errlen, -rc, "starting the API thread: %s", strerror(rc));
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
	if (s->mhd)
		MHD_stop_daemon(s->mhd); /* closes the listening socket too */
	else
		close_fd(&s->listen_fd);
	s->mhd = NULL;
	s->listen_fd = -1;
	close_fd(&s->stop_fd);
	close_fd(&s->request_fd);
	/* Unlink the socket only if it is still the one this server bound. */
	if (s->path[0] && stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	s->path[0] = '\0';
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}
