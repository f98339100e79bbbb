# beacon: heartbeats and counts its loops in the device's local store.
loop:
  mov %r1, 1
  mov %r2, %r10
  add %r2, -8
  call 0x12             # fetch_local(1, r10-8)
  ldxw %r2, [%r10-8]
  add %r2, 1
  mov %r1, 1
  call 0x10             # store_local(1, count+1)
  call 0x71             # heartbeat
  mov %r0, 0
  exit
