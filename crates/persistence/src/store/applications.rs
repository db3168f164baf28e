use diesel::prelude::*;
use roost_domain::model::application::{Application, ApplicationSettings, OAuthClient, Organization};
use roost_domain::ports::{ApplicationStore, StoreResult};
use roost_domain::ApplicationId;

use super::{DieselResultExt, DieselStore};
use crate::rows::{ApplicationRow, ClientRow, OrganizationRow};
use crate::schema::{applications, oauth_clients, organizations};

impl ApplicationStore for DieselStore {
    #[allow(
        clippy::disallowed_methods,
        reason = "`first` binds a limit, so the statement is prepared afresh: run only at start-up and by the command that creates an application"
    )]
    fn first_organization(&self) -> StoreResult<Option<Organization>> {
        self.read(|conn| {
            let row = organizations::table
                .order(organizations::id)
                .select(OrganizationRow::as_select())
                .first(conn)
                .optional()
                .store_err()?;
            Ok(row.map(Organization::from))
        })
    }

    fn create_application(
        &self,
        new_organization: Option<&Organization>,
        application: &Application,
        client: &OAuthClient,
    ) -> StoreResult<()> {
        self.write(|conn| {
            if let Some(org) = new_organization {
                diesel::insert_into(organizations::table)
                    .values(OrganizationRow::from(org))
                    .execute(conn)
                    .store_err()?;
            }
            diesel::insert_into(applications::table)
                .values(ApplicationRow::from(application))
                .execute(conn)
                .store_err()?;
            diesel::insert_into(oauth_clients::table).values(ClientRow::from(client)).execute(conn).store_err()?;
            Ok(())
        })
    }

    fn find_application(&self, id: ApplicationId) -> StoreResult<Option<Application>> {
        self.read(|conn| {
            applications::table
                .find(id.0)
                .select(ApplicationRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?
                .map(Application::try_from)
                .transpose()
        })
    }

    fn list_applications(&self) -> StoreResult<Vec<Application>> {
        self.read(|conn| {
            applications::table
                .order(applications::id)
                .select(ApplicationRow::as_select())
                .load(conn)
                .store_err()?
                .into_iter()
                .map(Application::try_from)
                .collect()
        })
    }

    fn update_settings(&self, id: ApplicationId, settings: ApplicationSettings) -> StoreResult<Option<Application>> {
        self.write(|conn| {
            let updated = diesel::update(applications::table.find(id.0))
                .set((
                    applications::guest_users.eq(settings.guest_users.is_enabled()),
                    applications::user_created_channels.eq(settings.user_created_channels.is_enabled()),
                ))
                .execute(conn)
                .store_err()?;
            if updated == 0 {
                return Ok(None);
            }
            let row =
                applications::table.find(id.0).select(ApplicationRow::as_select()).get_result(conn).store_err()?;
            Application::try_from(row).map(Some)
        })
    }
}
