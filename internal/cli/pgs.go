package cli

import (
	"github.com/billkey/billkey"
	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/tracing"
)

// PGFactories are the PG providers billkey serves, one line each; channels
// name theirs by provider name. Adding a PG adds its factory here (see
// docs/pg.md).
var PGFactories = []billkey.PGFactory{
	inicis.Factory, // html5_inicis, inicis: KG INICIS (test channels on the simulator)
}

// buildPGs builds the registry a running server uses: every provider of
// PGFactories and extra, each traced and measured. It also returns the KG
// INICIS connector, unwrapped, when one is registered.
func buildPGs(env billkey.PGEnv, extra []billkey.PGFactory, m *api.Metrics) (*billkey.PGRegistry, *inicis.Connector, error) {
	raw, err := billkey.BuildPGRegistry(env, append(append([]billkey.PGFactory{}, PGFactories...), extra...)...)
	if err != nil {
		return nil, nil, err
	}
	var conn *inicis.Connector
	var wrapped []*billkey.PGProvider
	for _, p := range raw.Providers() {
		if c, ok := p.PG.(*inicis.Connector); ok && conn == nil {
			conn = c
		}
		w := tracing.Provider(p)
		w.PG = m.ObservePG(w.PG)
		wrapped = append(wrapped, w)
	}
	pgs, err := billkey.NewPGRegistry(wrapped...)
	return pgs, conn, err
}
