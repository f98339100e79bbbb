#include "types.h"
struct node {
	u32 value;
	struct node *next;
};
static struct node pool[32];
u64 run(u32 arg)
{
	struct node *head = 0;
	for (u32 i = 0; i < 32; i++) {
		pool[i].value = i * i + arg;
		pool[i].next = head;
		head = &pool[i];
	}
	struct node *rev = 0;
	while (head) {
		struct node *n = head->next;
		head->next = rev;
		rev = head;
		head = n;
	}
	u64 h = 0;
	for (struct node *n = rev; n; n = n->next)
		h = h * 131 + n->value;
	return h;
}
