package server

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// tokenizeRequest is vLLM's POST /tokenize body (the prompt form).
type tokenizeRequest struct {
	Model            string  `json:"model"`
	Prompt           *string `json:"prompt"`
	AddSpecialTokens bool    `json:"add_special_tokens"`
}

// detokenizeRequest is vLLM's POST /detokenize body.
type detokenizeRequest struct {
	Model  string `json:"model"`
	Tokens []int  `json:"tokens"`
}

// tokenize serves POST /tokenize as vLLM does: the prompt's token ids with
// the configured encoding (which adds no special tokens either way), their
// count and max_model_len.
func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	var req tokenizeRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Prompt == nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", "prompt is required (the simulator tokenizes prompts, not messages)")
		return
	}
	if !s.servesModel(w, req.Model) {
		return
	}
	ids := s.tok.enc.Encode(*req.Prompt)
	if ids == nil {
		ids = []int{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(ids), "max_model_len": s.cfg.MaxModelLen, "tokens": ids, "token_strs": nil})
}

// detokenize serves POST /detokenize: the text of token ids.
func (s *Server) detokenize(w http.ResponseWriter, r *http.Request) {
	var req detokenizeRequest
	if !decodeBody(w, r, &req) || !s.servesModel(w, req.Model) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"prompt": s.tok.enc.Decode(req.Tokens)})
}

// decodeBody reads a JSON body of at most maxBody bytes into v, answering
// 400 when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

// servesModel answers vLLM's 404 for a model other than the one served
// ("" means the served one).
func (s *Server) servesModel(w http.ResponseWriter, model string) bool {
	if model != "" && model != s.cfg.Model {
		apiError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", model))
		return false
	}
	return true
}
