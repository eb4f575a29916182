package splitmix

import "testing"

// The reference values are splitmix64's published outputs for seed
// 1234567 (the sequence in Vigna's splitmix64.c test vectors).
func TestSourcePinned(t *testing.T) {
	s := Source{State: 1234567}
	want := []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821}
	for i, w := range want {
		if got := s.Next(); got != w {
			t.Fatalf("value %d = %d, want %d", i, got, w)
		}
	}
}

func TestFinalize(t *testing.T) {
	tests := []struct{ in, want uint64 }{
		{0, 0},
		{Gamma, 0xe220a8397b1dcdaf},
	}
	for _, tt := range tests {
		if got := Finalize(tt.in); got != tt.want {
			t.Errorf("Finalize(%#x) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
}
