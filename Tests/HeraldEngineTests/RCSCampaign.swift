/// The RCS template of the whole-campaign tests of the RCS providers.
enum RCSCampaign {
    /// An RCS template for whole-campaign tests (columns phone,name,code,points).
    static let template = """
        id: t
        channel: rcs
        variables:
          name: {type: string, required: true, max_length: 20}
          code: {type: string, required: true}
          points: {type: integer, default: 0}
        rcs:
          text: "Hi <name>, your code is <code>"
          suggestions:
            - {type: reply, text: "Use <code>", postback: "use-<code>"}
            - {type: open_url, text: "Open", url: "https://example.com/c/<code>"}
        fallback_sms: "Hi <name>, code <code>"
        """
}
