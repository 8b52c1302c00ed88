/* The database-seeding Job of the kustomize example: it would fill a database; here it proves
   it got the generated Secret (env DB_USER) and exits 0 so the Job completes. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const char *user = getenv("DB_USER");
  if (!user || !*user) {
    fprintf(stderr, "seeder: DB_USER is not set (is the db-credentials Secret mounted?)\n");
    return 1;
  }
  printf("seeder v1: seeded 3 rows as %s\n", user);
  return 0;
}
