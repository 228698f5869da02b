from django.urls import path

from madoguchi.accounts import views
from madoguchi.accounts.demo_idp import views as demo_idp

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_done, name="signup_done"),
    path("verify/resend/", views.resend_verification, name="resend_verification"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("email/", views.email_change, name="email_change"),
    path("password/reset/", views.PasswordResetRequestView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("staff/login/", views.staff_login_view, name="staff_login"),
    path("staff/2fa/", views.staff_totp, name="staff_totp"),
    path("staff/2fa/setup/", views.staff_totp_setup, name="staff_totp_setup"),
    # OpenID Connect relying party (My Number Card via デジタル認証アプリ, or the demo).
    path("login/<slug:provider>/", views.identity_start, name="identity_start"),
    path("callback/<slug:provider>/", views.identity_callback, name="identity_callback"),
    # The demo OpenID Provider standing in for デジタル認証アプリ.
    path("demo-idp/", demo_idp.index, name="demo_idp_index"),
    path("demo-idp/authorize/", demo_idp.authorize, name="demo_idp_authorize"),
    path("demo-idp/token/", demo_idp.token, name="demo_idp_token"),
    path("demo-idp/jwks/", demo_idp.jwks, name="demo_idp_jwks"),
    path("demo-idp/.well-known/openid-configuration", demo_idp.discovery, name="demo_idp_discovery"),
]
