# mapper: a mapping company's container on the drone boxes. It may read the
# radio's RSSI (endpoint 1, in) and send it to its own server (endpoint 2,
# remote, out): that is all the box's owner granted.
loop:
  mov %r1, 1            # open(1): RSSI
  call 0x72
  mov %r6, %r0
  mov %r1, %r6          # read(fd, r10-8, 4)
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r1, %r6
  call 0x73             # close
  mov %r1, 2            # open(2): the company's server
  call 0x72
  mov %r6, %r0
  mov %r1, %r6          # write(fd, r10-8, 4): one RSSI sample
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x75
  mov %r1, %r6
  call 0x73
  call 0x71             # heartbeat
  mov %r0, 0
  exit
