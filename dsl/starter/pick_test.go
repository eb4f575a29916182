package starter

import (
	"strings"
	"testing"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// TestPick pins the rule on the contexts users meet, each value worked out
// by hand: max_tokens = a 64th of the context as a power of two in
// [64, 256]; rounds 3 from 16384 tokens, else 2; the document = three
// quarters of the context less (rounds + 1) answers, capped at 131072,
// rounded down to a multiple of 512.
func TestPick(t *testing.T) {
	tests := []struct {
		name                           string
		context                        int
		doc, rounds, maxTokens, budget int
		conversation                   int
		assumed, capped                bool
	}{
		// 8192: 8192/64 = 128; 6144 − 3×128 = 5760 → 5632; 5632 + 384.
		{"8k", 8192, 5632, 2, 128, 6144, 6016, false, false},
		// 32768: 512 → 256; 24576 − 4×256 = 23552; 23552 + 1024.
		{"32k", 32768, 23552, 3, 256, 24576, 24576, false, false},
		// 131072: 98304 − 1024 = 97280.
		{"128k", 131072, 97280, 3, 256, 98304, 98304, false, false},
		// not stated: 4096 assumed; 64; 3072 − 3×64 = 2880 → 2560; 2560 + 192.
		{"unknown", 0, 2560, 2, 64, 3072, 2752, true, false},
		// the shortest: 2048/64 = 32 → 64; 1536 − 192 = 1344 → 1024.
		{"2k", 2048, 1024, 2, 64, 1536, 1216, false, false},
		// one below the third round: 16383/64 = 255 → 128; 16383 − 4095 = 12288;
		// 12288 − 384 = 11904 → 11776.
		{"16k-1", 16383, 11776, 2, 128, 12288, 12160, false, false},
		// the third round: 256; 12288 − 1024 = 11264.
		{"16k", 16384, 11264, 3, 256, 12288, 12288, false, false},
		// the simulator's seed-vllm: 757500 − 1024 is past the cap.
		{"1M", 1_010_000, 131072, 3, 256, 757500, 132096, false, true},
		// a server's absurd claim: three quarters of it without overflowing.
		{"2^62", 1 << 62, 131072, 3, 256, 3 << 60, 132096, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := Pick(tc.context)
			if err != nil {
				t.Fatal(err)
			}
			got := []int{ch.DocumentTokens, ch.Rounds, ch.MaxTokens, ch.Budget, ch.Conversation}
			want := []int{tc.doc, tc.rounds, tc.maxTokens, tc.budget, tc.conversation}
			for i, name := range []string{"document tokens", "rounds", "max_tokens", "budget", "conversation"} {
				if got[i] != want[i] {
					t.Errorf("%s = %d, want %d", name, got[i], want[i])
				}
			}
			if ch.Assumed != tc.assumed || ch.Capped != tc.capped {
				t.Errorf("assumed %v, capped %v; want %v, %v", ch.Assumed, ch.Capped, tc.assumed, tc.capped)
			}
		})
	}
}

// Every context from the shortest the rule fills to far past the cap gets
// a workload that fits in three quarters of it, by the plan check's count.
func TestPickFits(t *testing.T) {
	for n := MinContext; n <= 4<<20; n = n*9/8 + 1 {
		ch, err := Pick(n)
		if err != nil {
			t.Fatalf("context %d: %v", n, err)
		}
		if ch.DocumentTokens <= 0 || ch.DocumentTokens%documentStep != 0 || ch.Conversation > ch.Budget || ch.Budget > n {
			t.Errorf("context %d: document %d, conversation %d, budget %d", n, ch.DocumentTokens, ch.Conversation, ch.Budget)
		}
	}
}

// A context too short for a document and its follow-ups is refused, saying
// why, rather than filled with a document of nothing.
func TestPickTooShort(t *testing.T) {
	_, err := Pick(MinContext - 1)
	if err == nil || !strings.Contains(err.Error(), "2047 tokens, shorter than the 2048") {
		t.Fatalf("err = %v", err)
	}
}

// The fit is judged by the plan check exec applies (spec.CheckPlan), not a
// copy of it: a choice whose conversation outgrows the context is refused
// with the check's own words.
func TestCheckUsesThePlanRule(t *testing.T) {
	ch, err := Pick(32768)
	if err != nil {
		t.Fatal(err)
	}
	ch.DocumentTokens = 32768
	sc := ch.scenario()
	ch.Conversation = spec.ConversationFloor(sc, ch.DocumentTokens)
	err = ch.check(sc)
	if err == nil || !strings.Contains(err.Error(), "the target's context length (max_model_len) is 32768") {
		t.Fatalf("err = %v", err)
	}
}
