# hello: the smallest container. It greets when it starts, heartbeats every
# loop, and says goodbye when it is stopped. Its data (given in r1 to every
# hook) holds its two lines: "hello...\0" at offset 0, "goodbye...\0" at 32.
# Helpers: 0x01 printf (grant: log), 0x71 heartbeat (grant: heartbeat).
start:
  call 0x01             # printf(r1): the greeting
  mov %r0, 0
  exit
loop:
  call 0x71             # heartbeat
  mov %r0, 0            # 0: keep looping
  exit
stop:
  add %r1, 32
  call 0x01             # printf(r1 + 32): goodbye
  mov %r0, 0
  exit
