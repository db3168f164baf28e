use diesel::prelude::*;
use roost_domain::model::application::{Application, ApplicationSettings, OAuthClient, Organization};
use roost_domain::ports::{ApplicationStore, StoreResult};
use roost_domain::{ApplicationId, Timestamp};

use super::{DieselResultExt, DieselStore};
use crate::rows::{ApplicationRow, ClientRow, OrganizationRow};
use crate::schema::{
    access_tokens, applications, channel_invites, channel_members, channels, idempotency_keys, messages, notifications,
    oauth_clients, organizations, reactions, read_marks, threads, user_secrets, users,
};

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

    fn update_settings(
        &self,
        id: ApplicationId,
        revision: Option<i64>,
        settings: ApplicationSettings,
        now: Timestamp,
    ) -> StoreResult<Option<Application>> {
        self.write(|conn| {
            let mut target = diesel::update(applications::table.filter(applications::id.eq(id.0))).into_boxed();
            if let Some(version) = revision {
                target = target.filter(applications::version.eq(version));
            }
            let updated = target
                .set((
                    applications::guest_users.eq(settings.guest_users.is_enabled()),
                    applications::user_created_channels.eq(settings.user_created_channels.is_enabled()),
                    applications::user_sign_up.eq(settings.user_sign_up.is_enabled()),
                    applications::version.eq(applications::version + 1),
                    applications::updated_at.eq(Some(now.naive_utc())),
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

    fn rename_application(&self, id: ApplicationId, name: &str) -> StoreResult<Option<Application>> {
        self.write(|conn| {
            let updated = diesel::update(applications::table.find(id.0))
                .set((
                    applications::name.eq(name),
                    applications::version.eq(applications::version + 1),
                    applications::updated_at.eq(Some(chrono::Utc::now().naive_utc())),
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

    /// Every table is emptied of the application's rows explicitly, dependents first, rather
    /// than through `ON DELETE CASCADE`: the same statements on both engines, and one indexed
    /// delete per table instead of a cascade per row.
    fn delete_application(&self, id: ApplicationId) -> StoreResult<bool> {
        self.write(|conn| {
            let app = id.0;
            diesel::delete(notifications::table.filter(notifications::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(read_marks::table.filter(read_marks::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(reactions::table.filter(reactions::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(messages::table.filter(messages::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(threads::table.filter(threads::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(channel_invites::table.filter(channel_invites::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(channel_members::table.filter(channel_members::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(channels::table.filter(channels::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(user_secrets::table.filter(user_secrets::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(users::table.filter(users::application_id.eq(app))).execute(conn).store_err()?;
            diesel::delete(idempotency_keys::table.filter(idempotency_keys::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(access_tokens::table.filter(access_tokens::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            diesel::delete(oauth_clients::table.filter(oauth_clients::application_id.eq(app)))
                .execute(conn)
                .store_err()?;
            let deleted = diesel::delete(applications::table.find(app)).execute(conn).store_err()?;
            Ok(deleted == 1)
        })
    }
}
