/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HOSTILE_WAIT_H
#define HOSTILE_WAIT_H
#define WAIT_POLLS 1000000u
#endif
