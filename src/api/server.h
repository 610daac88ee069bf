/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API socket: HTTP/1.1 on a Unix socket (api/http.c), served by its own thread under its own
 * seccomp allowlist (SECCOMP_THREAD_API) from the first request on. That thread parses every request
 * into an api_action (route.c) and hands it to the main thread, which applies it (vmm.c) and hands
 * the reply back: only the main thread changes the VM, as in Firecracker's API/VMM thread split.
 *
 *   API thread: accept, read, route + parse ---- action ---> main thread: api_vmm_apply
 *               write the reply           <--- reply ------
 */
#ifndef KILN_API_SERVER_H
#define KILN_API_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "api/action.h"
#include "api/json.h"
#include "util.h"

#define API_MAX_PAYLOAD 51200 /* Firecracker's default --http-api-max-payload-size */
/*
 * Clients served at once; more wait in the listen backlog (of the same size) until one goes. The
 * timeout closes a connection idle that long (seconds, from its last byte in or out), so idle
 * clients cannot hold every slot for ever.
 */
#define API_MAX_CONNECTIONS 16
#define API_CONNECTION_TIMEOUT_S 5

struct api_conn; /* one client's connection (server.c) */

/* Applies one action on the main thread. */
typedef void (*api_handler_fn)(void *ctx, const struct api_action *a, struct api_reply *r);

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file this server bound, which alone it unlinks */
	ino_t ino;
	int listen_fd;
	size_t max_payload;
	struct api_conn *conns[API_MAX_CONNECTIONS]; /* the API thread's; NULL where there is room */
	unsigned int nconns;
	uint64_t accept_after_ns; /* accept4 failed for want of fds or memory: not before then */
	pthread_t thread;
	bool thread_running;
	int stop_fd;    /* eventfd: the main thread asks the API thread to stop */
	int request_fd; /* eventfd: the API thread has an action waiting for the main thread */

	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t cond;
	int start_result;                  /* 1 until the API thread has installed its filter */
	const struct api_action *pending;  /* the action waiting for the main thread */
	struct api_reply reply;            /* its reply, once answered */
	bool answered;
	bool closed;                       /* the main thread answers no more */
};

/*
 * Binds the socket at path (replacing a stale socket nobody listens on, nothing else); bodies above
 * max_payload bytes are refused. -errno and one line in err.
 */
int api_server_open(struct api_server *s, const char *path, size_t max_payload, char *err,
		    size_t errlen) MUST_CHECK;

/* Starts the API thread, which installs its seccomp filter before serving. */
int api_server_start(struct api_server *s, char *err, size_t errlen) MUST_CHECK;

/* Readable when an action waits for api_server_serve(). */
int api_server_request_fd(const struct api_server *s);

/* On the main thread: applies the waiting action, if any, with fn and hands back the reply. */
void api_server_serve(struct api_server *s, api_handler_fn fn, void *ctx);

/* Stops the API thread (a request still waiting gets a 400), closes and unlinks the socket. */
void api_server_close(struct api_server *s);

/* The signals that stop kiln (SIGINT, SIGTERM, SIGHUP): the main thread's, never the API thread's. */
void api_stop_signals(sigset_t *set);

#endif
