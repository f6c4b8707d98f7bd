"""API tokens in the admin: create one for a user (shown once, on the page that answers the form;
never in a message, which would be stored in the session or a cookie), list them by id, user and
expiry, revoke one or all of a user's. Replaces knox's own admin, which lists digests and shows a
new token through the messages framework."""
from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from knox.models import AuthToken, get_digest_token

from ragbase.api_tokens import default_expiry, is_expired, token_id

admin.site.unregister(AuthToken)


class ApiTokenCreationForm(forms.ModelForm):
    class Meta:
        model = AuthToken
        fields = ["user", "expiry"]
        help_texts = {"expiry": "Leave empty for the default lifetime (API_TOKEN_TTL_DAYS)."}


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "created", "expiry", "expired"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["token_key", "user", "created"]
    fields = ["token_key", "user", "created", "expiry"]
    actions = ["revoke_all_tokens_of_these_users"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["user", "expiry"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    @admin.display(boolean=True)
    def expired(self, token):
        return is_expired(token)

    def save_model(self, request, obj, form, change):
        if not change:
            digest, token = get_digest_token()
            obj.digest, obj.token_key = digest, token_id(token)
            obj.expiry = obj.expiry or default_expiry()
            request.new_api_token = token
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "API token created",
                   "api_token": obj, "token": request.new_api_token}
        # The admin's views already send Cache-Control: no-store.
        return TemplateResponse(request, "admin/knox/authtoken/created.html", context)

    @admin.action(description="Revoke all API tokens of these tokens' users")
    def revoke_all_tokens_of_these_users(self, request, queryset):
        count = AuthToken.objects.filter(user__in=queryset.values("user")).delete()[0]
        self.message_user(request, f"{count} API token(s) revoked.", messages.SUCCESS)
