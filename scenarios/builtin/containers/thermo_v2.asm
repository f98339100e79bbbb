# thermo v2: adds a range check before storing the reading. Its bug: a
# reading above 32.00 °C leaves the loop early, as "out of the sensor's
# calibrated range", and the early exit jumps over the heartbeat too. On a
# cool box nothing shows; on a box in the sun the watchdog sees a dead
# container and stops it.
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
  jsgt %r2, 3200, +3    # out of range: skip the store... and the heartbeat
  mov %r1, 1
  call 0x10             # store_local(1, reading)
  call 0x71             # heartbeat
  mov %r0, 0
  exit
