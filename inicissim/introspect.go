package inicissim

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
)

// handleLedger serves GET /_sim/ledger: the ledger as JSON.
func (s *Simulator) handleLedger(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.Ledger())
}

// handleReset serves POST /_sim/reset.
func (s *Simulator) handleReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	writeJSON(w, map[string]any{"ok": true})
}

// handleGetFaults serves GET /_sim/faults.
func (s *Simulator) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.CurrentFaults())
}

// handleSetFaults serves POST /_sim/faults with a Faults JSON body.
func (s *Simulator) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var f Faults
	if err == nil {
		err = json.Unmarshal(body, &f)
	}
	if err == nil {
		err = s.SetFaults(f)
	}
	if err != nil {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": err.Error()})
		return
	}
	writeJSON(w, s.CurrentFaults())
}

// handleClearFaults serves DELETE /_sim/faults.
func (s *Simulator) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	writeJSON(w, s.CurrentFaults())
}

// handleReceipt serves GET /receipt?noTid=: a card receipt page.
func (s *Simulator) handleReceipt(w http.ResponseWriter, r *http.Request) {
	tid := r.URL.Query().Get("noTid")
	s.st.mu.Lock()
	var a *Approval
	if x := s.st.byTID[tid]; x != nil {
		c := *x
		a = &c
	}
	s.st.mu.Unlock()
	data := struct {
		Approval   *Approval
		ApprovedAt string
		State      string
	}{Approval: a}
	status := http.StatusNotFound
	if a != nil {
		status = http.StatusOK
		data.ApprovedAt = a.ApprovedAt.In(kst).Format("2006-01-02 15:04:05")
		data.State = map[string]string{StateApproved: "승인", StatePartiallyCancelled: "부분취소", StateCancelled: "취소"}[a.State]
	}
	s.render(w, status, "receipt.html", data)
}

// handleIndex serves GET /: an overview for people.
func (s *Simulator) handleIndex(w http.ResponseWriter, r *http.Request) {
	accts := make([]Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		lite := ""
		if a.LiteKey != "" {
			lite = "yes" // never render the key itself
		}
		accts = append(accts, Account{MID: a.MID, Name: a.Name, LiteKey: lite})
	}
	sort.Slice(accts, func(i, j int) bool { return accts[i].MID < accts[j].MID })
	s.render(w, http.StatusOK, "index.html", struct {
		Base     string
		Accounts []Account
		Magic    []MagicCard
		BINs     []Issuer
	}{s.base(r), accts, MagicCards, BINTable})
}
