/* Temporary directories for tests that write files (LMDB stores, replay
 * states). Include first: it sets _POSIX_C_SOURCE for mkdtemp. */
#ifndef IMCORE_TMPDIR_H
#define IMCORE_TMPDIR_H

#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh temporary directory (for LMDB files); path receives it. */
static inline int fx_tmpdir(char *path, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(path, cap, "%s/imcore-dir-XXXXXX", base != NULL ? base : "/tmp");
    return mkdtemp(path) != NULL;
}

/* Removes the files of a temporary directory and the directory. */
static inline void fx_rmdir(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    char file[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
    }
    closedir(d);
    rmdir(path);
}

#endif
