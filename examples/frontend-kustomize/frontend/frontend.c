/* The frontend of the kustomize example: answers every request with its version and the
   greeting it got from the ConfigMap that kustomize generates (env GREETING). Static. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION "v1"

static void stop(int sig) { (void)sig; _exit(0); }

int main(void) {
  const char *greeting = getenv("GREETING") ? getenv("GREETING") : "(no greeting)";
  char body[512];
  int len = snprintf(body, sizeof body, "frontend %s: %s\n", VERSION, greeting);
  signal(SIGTERM, stop);
  signal(SIGPIPE, SIG_IGN);
  int one = 1, srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(8080)};
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 16)) return 1;
  printf("frontend %s up; greeting: %s\n", VERSION, greeting);
  fflush(stdout);
  for (;;) {
    int c = accept(srv, NULL, NULL);
    if (c < 0) continue;
    char req[1024], head[128];
    if (read(c, req, sizeof req) > 0) {
      int n = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n", len);
      if (write(c, head, n) < 0 || write(c, body, len) < 0) perror("write");
    }
    close(c);
  }
}
