/* File I/O: open/write/read/lseek/stat/readdir/rename/unlink, vectors, dup2, setjmp. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static jmp_buf env;

static void jump_back(int depth)
{
    if (depth == 0)
        longjmp(env, 42);
    jump_back(depth - 1);
}

int main(void)
{
    char buf[64];
    const char *path = "fileio.tmp";
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0640);
    if (fd < 0) { perror("open"); return 1; }
    struct iovec iov[2] = {{"hello ", 6}, {"world\n", 6}};
    printf("writev %zd\n", writev(fd, iov, 2));
    printf("lseek %ld\n", (long)lseek(fd, 6, SEEK_SET));
    ssize_t n = read(fd, buf, sizeof buf);
    printf("read %zd '%.*s'\n", n, (int)n - 1, buf);
    printf("pread %zd\n", pread(fd, buf, 5, 0));
    struct stat st;
    fstat(fd, &st);
    printf("size %ld mode %o regular %d\n", (long)st.st_size, st.st_mode & 0777, S_ISREG(st.st_mode));
    close(fd);
    stat(path, &st);
    printf("stat size %ld nlink %ld\n", (long)st.st_size, (long)st.st_nlink);
    mkdir("fileio.dir", 0755);
    rename(path, "fileio.dir/moved");
    DIR *d = opendir("fileio.dir");
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') { printf("entry %s\n", e->d_name); entries++; }
    closedir(d);
    printf("access missing %d\n", access(path, F_OK));
    FILE *f = fopen("fileio.dir/moved", "r");
    fgets(buf, sizeof buf, f);
    fclose(f);
    printf("fgets %s", buf);
    unlink("fileio.dir/moved");
    rmdir("fileio.dir");
    int saved = dup(1);
    dup2(saved, 1);
    char cwd[256];
    printf("getcwd ok %d\n", getcwd(cwd, sizeof cwd) != NULL);
    int v = setjmp(env);
    if (v == 0)
        jump_back(10);
    printf("longjmp %d\n", v);
    fprintf(stderr, "to stderr\n");
    return entries == 1 ? 7 : 1;
}
