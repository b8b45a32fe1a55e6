/* A TCP server and client over loopback (a thread each), poll, getsockname. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;

static void *client(void *arg)
{
    (void)arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return NULL; }
    const char *msg = "ping over tcp";
    send(s, msg, strlen(msg), 0);
    char buf[64] = {0};
    recv(s, buf, sizeof buf - 1, 0);
    printf("client got '%s'\n", buf);
    close(s);
    return NULL;
}

int main(void)
{
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(srv, (struct sockaddr *)&a, sizeof a);
    listen(srv, 1);
    socklen_t len = sizeof a;
    getsockname(srv, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    struct pollfd pfd = {.fd = srv, .events = POLLIN};
    printf("poll %d\n", poll(&pfd, 1, 10000));
    int c = accept(srv, NULL, NULL);
    char buf[64] = {0};
    ssize_t n = recv(c, buf, sizeof buf - 1, 0);
    printf("server got %zd bytes '%s'\n", n, buf);
    send(c, "pong", 4, 0);
    pthread_join(t, NULL);
    close(c);
    close(srv);
    return 0;
}
