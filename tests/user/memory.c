/* mmap, mprotect, munmap, mremap, brk via malloc, file mappings. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    size_t len = 3 * 4096;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap ok %d zero %d\n", p != MAP_FAILED, p[100] == 0);
    memset(p, 'x', len);
    printf("mprotect %d\n", mprotect(p + 4096, 4096, PROT_READ));
    printf("read back %c\n", p[4096 + 5]);
    printf("munmap %d\n", munmap(p, len));
    char *big = malloc(1 << 20);
    memset(big, 1, 1 << 20);
    long sum = 0;
    for (int i = 0; i < (1 << 20); i += 4096)
        sum += big[i];
    printf("malloc sum %ld\n", sum);
    free(big);
    int fd = open("memory.tmp", O_CREAT | O_TRUNC | O_RDWR, 0600);
    write(fd, "file contents here", 18);
    char *m = mmap(NULL, 18, PROT_READ, MAP_SHARED, fd, 0);
    printf("file map '%.13s'\n", m);
    char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memcpy(w, "FILE", 4);
    msync(w, 4096, MS_SYNC);
    char buf[8] = {0};
    pread(fd, buf, 4, 0);
    printf("shared write seen by read: %s, by other map: %.4s\n", buf, m);
    close(fd);
    unlink("memory.tmp");
    return 0;
}
