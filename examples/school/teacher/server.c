/* The teacher service: answers every HTTP request on :8080 with one line. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_signal(int sig) { _exit(sig == SIGTERM ? 0 : 1); }

int main(void) {
  const char *reply =
      "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
      "teacher: class starts at nine\n";
  int one = 1, srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(8080)};
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 16)) {
    perror("teacher: bind/listen");
    return 1;
  }
  printf("teacher listening on :8080\n");
  fflush(stdout);
  for (;;) {
    char req[1024];
    int conn = accept(srv, NULL, NULL);
    if (conn < 0) continue;
    if (read(conn, req, sizeof req) >= 0 && write(conn, reply, strlen(reply)) < 0) perror("teacher: write");
    close(conn);
  }
}
