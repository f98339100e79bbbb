// A container-shaped program for the ELF loader's tests: globals in .data,
// .bss and .rodata, a table of string pointers (data relocations), a static
// function called from another section, a global function called across
// sections, and a helper call by number. elf_test.go has the same code in Go.
// Build: clang -target bpf -O2 -c prog.c -o prog.o

struct ctx {
	unsigned int n;
	unsigned char buf[64];
};

static long (*bpf_add)(long a, long b) = (void *)0x42;

static const unsigned int table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
unsigned int counter = 7;
unsigned int hist[16];
const char *names[] = {"zero", "one", "two"};

__attribute__((noinline)) static unsigned int mix(unsigned int a, unsigned int b)
{
	return (a * 31) ^ (b + table[a & 7]);
}

__attribute__((noinline)) unsigned int strsum(const char *s)
{
	unsigned int t = 0;
	while (*s)
		t = t * 7 + (unsigned char)*s++;
	return t;
}

__attribute__((section("container"))) unsigned int loop(struct ctx *c)
{
	unsigned int h = counter;
	for (unsigned int i = 0; i < c->n && i < 64; i++) {
		h = mix(h, c->buf[i]);
		hist[c->buf[i] & 15]++;
	}
	counter = h;
	h += strsum(names[c->n % 3]);
	return h + hist[3] + (unsigned int)bpf_add(h, 5);
}

int start(void)
{
	return 0;
}
