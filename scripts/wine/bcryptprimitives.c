/* Test shim for Wine 8 only, never shipped: Wine 8.0 (Debian 12) has no bcryptprimitives.dll,
 * whose ProcessPrng the Rust standard library calls on Windows 10 and later (HashMap seeds).
 * This implements it with RtlGenRandom (advapi32's SystemFunction036) so that gep.exe can be
 * smoke-tested under Wine; real Windows has the DLL. Built and used by scripts/windows.sh. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
