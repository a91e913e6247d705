/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_asan: VT_ASAN is 1 in a build with AddressSanitizer (make SAN=1). Its shadow memory and
 * the quarantine of freed blocks come on top of what a process uses: bounds on RSS are not
 * checked in such a build (what they guard is checked all the same).
 */
#ifndef VIGIL_TEST_ASAN_H
#define VIGIL_TEST_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define VT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VT_ASAN 1
#endif
#endif
#ifndef VT_ASAN
#define VT_ASAN 0
#endif

#endif
