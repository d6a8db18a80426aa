/*
 * mlock_mincore.c - which pages are resident, and pinning them.
 *
 * mincore() reports one byte per page: 1 once a fault has mapped it (even
 * the shared zero page after a read).  mlock() faults the range in at once
 * and counts it in VmLck (/proc/self/status); MADV_DONTNEED refuses locked
 * pages; munlock() gives them back to the ordinary rules.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <errno.h>
static int vmlck(void){ FILE *f=fopen("/proc/self/status","r"); char l[256]; int v=-1; while(fgets(l,sizeof l,f)) if(!strncmp(l,"VmLck:",6)) sscanf(l+6,"%d",&v); fclose(f); return v; }
int main(void){
  char *p = mmap(0, 8*4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  unsigned char v[8];
  mincore(p, 8*4096, v); printf("mincore before: %d%d%d%d%d%d%d%d\n", v[0],v[1],v[2],v[3],v[4],v[5],v[6],v[7]);
  p[0]=1; (void)*(volatile char*)(p+4096*2);
  mincore(p, 8*4096, v); printf("mincore after touch: %d%d%d%d%d%d%d%d\n", v[0],v[1],v[2],v[3],v[4],v[5],v[6],v[7]);
  {int r=mlock(p+4096*4, 2*4096); printf("mlock %d VmLck %d\n", r, vmlck());}
  mincore(p, 8*4096, v); printf("mincore after mlock: %d%d%d%d%d%d%d%d\n", v[0],v[1],v[2],v[3],v[4],v[5],v[6],v[7]);
  printf("madvise DONTNEED on locked: %s\n", madvise(p+4096*4, 4096, MADV_DONTNEED) ? strerror(errno) : "ok");
  {int r=munlock(p+4096*4, 2*4096); printf("munlock %d VmLck %d\n", r, vmlck());}
  {errno=0; int r=mincore(p+1, 4096, v); printf("mincore unaligned: %d %s\n", r, strerror(errno));}
  munmap(p+4096*7, 4096); {errno=0; int r=mincore(p, 8*4096, v); printf("mincore hole: %d %s\n", r, strerror(errno));}
  return 0;
}
