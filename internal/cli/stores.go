package cli

import (
	"github.com/billkey/billkey/console"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/sqlstore"
)

// The SQL store is the one implementation of the interfaces the gateway and
// the console declare for their persistence.
var (
	_ gateway.Store = (*sqlstore.Store)(nil)
	_ console.Store = (*sqlstore.Store)(nil)
)

// sqlStore returns the SQL store behind a service this package built (setup
// always gives gateway.New a *sqlstore.Store), for the commands that manage
// the database itself: close, migrate, operators, backups.
func sqlStore(svc *gateway.Service) *sqlstore.Store {
	return svc.Store.(*sqlstore.Store)
}
