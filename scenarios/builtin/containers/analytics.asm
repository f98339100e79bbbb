# analytics: a statistics company's container on the city's station. It
# would like the athlete's heart rate (endpoint 1, declared in its metadata)
# but the owner granted it open and close only, not read: every read is
# denied by the firewall and returns -1. It heartbeats, so it keeps running.
loop:
  mov %r1, 1            # open(endpoint 1): allowed, gives an fd
  call 0x72
  mov %r6, %r0
  mov %r1, %r6          # read(fd, stack buffer, 4): denied, not granted
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r1, %r6          # close(fd)
  call 0x73
  call 0x71             # heartbeat
  mov %r0, 0
  exit
