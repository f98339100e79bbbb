# thermo v1: reads the box's temperature (endpoint 1, hundredths of a °C)
# every loop, keeps the last reading in the local store and heartbeats.
loop:
  mov %r1, 1
  call 0x72             # open(endpoint 1)
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74             # read(fd, r10-8, 4)
  mov %r1, %r6
  call 0x73             # close(fd)
  ldxw %r2, [%r10-8]
  mov %r1, 1
  call 0x10             # store_local(1, reading)
  call 0x71             # heartbeat
  mov %r0, 0
  exit
